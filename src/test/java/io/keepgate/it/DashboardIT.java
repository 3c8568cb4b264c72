package io.keepgate.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keepgate.testing.Await;
import io.keepgate.testing.CountingBackend;
import io.keepgate.testing.GatewayHarness;
import io.keepgate.testing.HeadlessChromium;
import io.keepgate.testing.RawClient;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The claim under test: the admin listener's dashboard, loaded in a real browser (headless
 * Chromium), shows every endpoint of every upstream, and its numbers move as requests flow (the
 * page is fed by server-sent events, about once a second); an endpoint that is ejected shows as
 * down. With {@code -Dkeepgate.dashboard.screenshot=<file>} it also saves the README's screenshot.
 */
class DashboardIT {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static void requests(GatewayHarness gateway, int count) {
    for (int i = 0; i < count; i++) {
      try (RawClient client = new RawClient(gateway.port())) {
        client.send("GET /shop/" + i + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        client.readResponse();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
  }

  /** The digits of an element's text, as a number; -1 when it shows none. */
  private static long number(HeadlessChromium page, String selector) {
    String digits = text(page, selector).replaceAll("[^0-9]", "");
    return digits.isEmpty() ? -1 : Long.parseLong(digits);
  }

  @Test
  void theDashboardShowsThePoolsLiveAndAnEjectedEndpointAsDown() throws Exception {
    try (CountingBackend steady = CountingBackend.start(); CountingBackend failing = CountingBackend.start()) {
      JsonObject config = GatewayHarness.config(steady.endpoint(), failing.endpoint());
      config.getJsonObject("server").put("eventLoops", 1); // one round-robin cursor: 20 requests each of 40
      GatewayHarness.upstream(config).put("healthCheck", new JsonObject().put("unhealthyThreshold", 1));
      try (GatewayHarness gateway = GatewayHarness.start(config);
          HeadlessChromium page = HeadlessChromium.open(gateway.adminUrl("/"))) {
        String steadyRow = "[data-endpoint=\"up/" + steady.endpoint() + "\"]";
        String failingRow = "[data-endpoint=\"up/" + failing.endpoint() + "\"]";
        Await.until("both endpoints on the page", WAIT, () -> count(page, "[data-endpoint]") == 2);
        assertEquals("up", text(page, steadyRow + " [data-field=state]"));

        requests(gateway, 40);
        Await.until("the page counts the 20 requests each endpoint served", WAIT,
            () -> number(page, steadyRow + " [data-field=requests]") == 20
                && number(page, "[data-route=\"all\"] [data-field=requests]") == 40);
        requests(gateway, 40);
        Await.until("and moves on as 40 more flow", WAIT,
            () -> number(page, steadyRow + " [data-field=requests]") == 40
                && number(page, "[data-route=\"all\"] [data-field=requests]") == 80);

        failing.close(); // the next request to it fails to connect: with a threshold of 1 it is ejected
        Await.until("the endpoint ejected", WAIT, () -> {
          requests(gateway, 2);
          return gateway.metric("keepgate_upstream_healthy", "endpoint=\"" + failing.endpoint() + "\"") == 0.0;
        });
        Await.until("the page shows it down", WAIT, () -> text(page, failingRow + " [data-field=state]").equals("ejected"));
        assertEquals("up", text(page, steadyRow + " [data-field=state]"));
        assertTrue(number(page, failingRow + " [data-field=connectFailures]") >= 1, "its failed connect shows");
        assertTrue(number(page, failingRow + " [data-field=retries]") >= 1, "and the request it moved to the other endpoint");

        byte[] png = page.screenshot();
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1], "a PNG of the page");
        String screenshot = System.getProperty("keepgate.dashboard.screenshot", "");
        if (!screenshot.isEmpty()) {
          Files.write(Path.of(screenshot), png);
        }

        steady.close(); // now no endpoint takes the request a failed connect would move: a 502
        requests(gateway, 1);
        Await.until("the 502 shows in the route's 5xx", WAIT,
            () -> number(page, "[data-route=\"all\"] [data-field=errors]") >= 1);
      }
    }
  }

  private static int count(HeadlessChromium page, String selector) {
    try {
      return ((Number) page.evaluate("document.querySelectorAll('" + selector + "').length")).intValue();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String text(HeadlessChromium page, String selector) {
    try {
      return String.valueOf(page.evaluate("(document.querySelector('" + selector + "') || {}).textContent || ''"));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

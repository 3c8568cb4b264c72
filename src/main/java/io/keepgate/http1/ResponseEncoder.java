package io.keepgate.http1;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Netty's response encoder for a client connection, told when the response answers a HEAD: its
 * headers (Content-Length included) go out, a body never does.
 *
 * <p>Threading: one per client connection, on its event loop.
 */
public final class ResponseEncoder extends HttpResponseEncoder {
  private boolean answeringHead;

  /** The next final response answers a HEAD request (or not). */
  public void answeringHead(boolean head) {
    answeringHead = head;
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpResponse msg) {
    if (answeringHead && msg.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
      return true;
    }
    return super.isContentAlwaysEmpty(msg);
  }
}

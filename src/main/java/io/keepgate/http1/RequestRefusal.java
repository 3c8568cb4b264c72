package io.keepgate.http1;

/**
 * Why a request is refused before anything of it is forwarded: the status to answer with and a
 * reason a person can act on. Expected input from hostile or broken clients, so it carries no
 * stack trace.
 */
public final class RequestRefusal extends IllegalArgumentException {
  private final int status;

  public RequestRefusal(int status, String reason) {
    super(reason, null);
    this.status = status;
  }

  /** 400, 414, 431 or 505. */
  public int status() {
    return status;
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}

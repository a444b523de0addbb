package io.lbkit.netty;

import io.lbkit.core.Outcome;
import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;

/** How a failure on a backend connection counts for its endpoint, for an {@link Exchange} and a fan-out leg alike. */
final class BackendFailure {

    private BackendFailure() {
    }

    /** The outcome of {@code t} or a cause in its chain: a timeout, a failed connect, a malformed response, else a reset. */
    static Outcome classify(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConnectTimeoutException || c instanceof ReadTimeoutException) {
                return Outcome.TIMEOUT;
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException
                    || c instanceof UnknownHostException) {
                return Outcome.CONNECT_FAILURE;
            }
            if (c instanceof io.netty.handler.codec.DecoderException
                    || c instanceof io.netty.handler.codec.TooLongFrameException) {
                return Outcome.INVALID_RESPONSE;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return Outcome.RESET;
    }
}

package io.lbkit.servlet.proxy;

import io.lbkit.core.Outcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.HttpResponseException;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;

/**
 * What a failed backend request means, read from the Jetty client's failure: the endpoint's
 * outcome for the balancer and the retry policy ({@link #classify}), or a failure that is not the
 * endpoint's at all ({@link #localFailureStatus}). Used by {@link BackendAttempt} and
 * {@link FanOutExchange}; stateless.
 */
final class BackendFailures {

    /** At most this many attempts per request are retried for a stale kept-alive connection. */
    static final int MAX_STALE_RETRIES = 3;

    private BackendFailures() {
    }

    /**
     * The status for a failure that is not the endpoint's, or 0 when it may be: what failed is
     * lbkit building or sending the request, not the endpoint or the network. A request the client
     * made that cannot be encoded (an {@link IllegalArgumentException}) is the client's error, 400;
     * the client's request queue being full is the proxy's overload, 503; any other unchecked
     * failure that no I/O caused is a bug in lbkit, 500. I/O failures, timeouts, invalid responses
     * and cancellations are the endpoint's or the exchange's, and keep their usual handling.
     */
    static int localFailureStatus(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IOException || c instanceof TimeoutException || c instanceof HttpException
                    || c instanceof HttpResponseException || c instanceof CancellationException) {
                return 0;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        if (t instanceof RejectedExecutionException) {
            return 503;
        }
        if (t instanceof IllegalArgumentException) {
            return 400;
        }
        if (t instanceof NullPointerException || t instanceof ClassCastException
                || t instanceof IndexOutOfBoundsException || t instanceof ArithmeticException
                || t instanceof UnsupportedOperationException || t instanceof Error) {
            return 500;
        }
        return 0;
    }

    /** The endpoint's outcome for a failed request: timeout, connect failure, invalid response or reset. */
    static Outcome classify(Throwable t, boolean committed) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof SocketTimeoutException) {
                return Outcome.TIMEOUT;
            }
            if (c instanceof ConnectException || c instanceof NoRouteToHostException
                    || c instanceof UnknownHostException || c instanceof UnresolvedAddressException) {
                return Outcome.CONNECT_FAILURE;
            }
            if (c instanceof HttpResponseException || c instanceof HttpException) {
                return Outcome.INVALID_RESPONSE;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return Outcome.RESET;
    }

    /** Whether the request went out on a pooled connection that had already carried a response. */
    static boolean reusedConnection(Request r) {
        return r != null && r.getConnection() instanceof org.eclipse.jetty.io.Connection c && c.getMessagesIn() > 0;
    }

    /** The size of a header block as sent: each field's name, ": ", value and CRLF. */
    static long headerBlockBytes(HttpFields h) {
        long n = 0;
        for (int i = 0; i < h.size(); i++) {
            HttpField f = h.getField(i);
            n += f.getName().length() + (f.getValue() == null ? 0 : f.getValue().length()) + 4;
        }
        return n;
    }
}

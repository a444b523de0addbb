package io.lbkit.proxy.engine;

/**
 * What one exchange did, as the access log and metrics read it: the client request, the answer,
 * and every upstream attempt (nginx's {@code $upstream_*} lists one value per try). Engines fill
 * it at fixed points: {@link #begin} when the request head arrives, {@link #attemptStarted},
 * {@link #connected}, {@link #responseHead} and {@link #attemptEnded} per try, {@link #status} and
 * {@link #bodyBytes} as the answer goes out, {@link #end} when the exchange is over. Mutable and
 * reused: one per client connection (or per exchange), {@link #begin} clears it, so recording a
 * request allocates nothing once the attempt arrays have grown to the usual number of tries.
 * Touched by one thread at a time (the exchange's).
 */
public final class AccessRecord {

    /** A time that was not measured: nginx prints {@code -}. */
    public static final long NONE = -1;

    String remoteAddr;
    long startNanos;
    long endNanos;
    String method;
    String uri;
    String protocol;
    ClientRequest request;
    int status;
    long bodyBytes;
    String requestId;
    String route;
    String upstream;
    String refusal;
    int refusalStatus;
    long requestBytes;

    int attempts;
    private long attemptStart;
    String[] hosts = new String[2];
    String[] endpointIds = new String[2];
    int[] ports = new int[2];
    int[] statuses = new int[2];
    long[] connectNanos = new long[2];
    long[] headerNanos = new long[2];
    long[] responseNanos = new long[2];

    /** A new request: clears the previous one's values. {@code request} may be null (a head that did not parse). */
    public AccessRecord begin(String remoteAddr, String method, String uri, String protocol, ClientRequest request,
                              long nanos) {
        this.remoteAddr = remoteAddr;
        this.method = method;
        this.uri = uri;
        this.protocol = protocol;
        this.request = request;
        this.startNanos = nanos;
        this.endNanos = nanos;
        this.status = 0;
        this.bodyBytes = 0;
        this.requestId = null;
        this.route = null;
        this.upstream = null;
        this.refusal = null;
        this.refusalStatus = 0;
        this.requestBytes = 0;
        this.attempts = 0;
        return this;
    }

    /** The route that took the request and the upstream it goes to (null, null: none took it). */
    public void routed(String route, String upstream) {
        this.route = route;
        this.upstream = upstream;
    }

    /**
     * The route's limits or access rules refused the request: {@code reason} is the refusal's fixed
     * text ({@link Limits#RATE_EXCEEDED}, {@link Limits#TOO_MANY_CONCURRENT}, {@link AccessRules#FORBIDDEN}).
     */
    public void refused(String reason, int status) {
        this.refusal = reason;
        this.refusalStatus = status;
    }

    /** Request body bytes received from the client ({@code bytes in}). */
    public void requestBytes(long n) {
        this.requestBytes += n;
    }

    /** The name of the route that took the request, or null when none did. */
    public String route() {
        return route;
    }

    /** The upstream the request went to, or null. */
    public String upstream() {
        return upstream;
    }

    /** The refusal's fixed text when the route's limits or access rules refused the request, else null. */
    public String refusal() {
        return refusal;
    }

    /** The status of the refusal, 0 when none. */
    public int refusalStatus() {
        return refusalStatus;
    }

    /** Body bytes sent to the client. */
    public long bodyBytes() {
        return bodyBytes;
    }

    /** Request body bytes received from the client. */
    public long requestBytes() {
        return requestBytes;
    }

    /** The exchange's time from the first byte of the request to its end, in nanoseconds. */
    public long totalNanos() {
        return endNanos - startNanos;
    }

    /** The id of attempt {@code i}'s endpoint (null when the engine gave only its address). */
    public String attemptEndpoint(int i) {
        return endpointIds[i];
    }

    /** Attempt {@code i}'s status: the response's, or 502/504 for an error/timeout without one, 0 when cancelled. */
    public int attemptStatus(int i) {
        return statuses[i];
    }

    /** Attempt {@code i}'s connect time in nanoseconds, or {@link #NONE} when it never connected. */
    public long attemptConnectNanos(int i) {
        return connectNanos[i];
    }

    /** Attempt {@code i}'s time to the response head in nanoseconds, or {@link #NONE} when none came. */
    public long attemptHeaderNanos(int i) {
        return headerNanos[i];
    }

    /** Attempt {@code i}'s time to its end in nanoseconds, or {@link #NONE}. */
    public long attemptResponseNanos(int i) {
        return responseNanos[i];
    }

    /** The request's view, once the engine has one (its header fields feed {@code $http_NAME}, {@code $cookie_NAME}). */
    public void request(ClientRequest request) {
        this.request = request;
    }

    /** The request id the exchange uses ({@code $request_id}); without one, the log generates one. */
    public void requestId(String id) {
        this.requestId = id;
    }

    public String requestId() {
        return requestId;
    }

    /** An attempt to {@code endpoint} starts ({@code $upstream_addr} prints its host and port; metrics its id). */
    public void attemptStarted(io.lbkit.core.Endpoint endpoint, long nanos) {
        attemptStarted(endpoint.host(), endpoint.port(), nanos);
        endpointIds[attempts - 1] = endpoint.id();
    }

    /** An attempt to the endpoint at {@code host}:{@code port} starts ({@code $upstream_addr} prints both). */
    public void attemptStarted(String host, int port, long nanos) {
        int i = attempts;
        if (i == hosts.length) {
            grow();
        }
        hosts[i] = host;
        endpointIds[i] = null;
        ports[i] = port;
        statuses[i] = 0;
        connectNanos[i] = NONE;
        headerNanos[i] = NONE;
        responseNanos[i] = NONE;
        attemptStart = nanos;
        attempts = i + 1;
    }

    /** The current attempt's connection is open (or a kept-alive one was taken). */
    public void connected(long nanos) {
        if (attempts > 0) {
            connectNanos[attempts - 1] = nanos - attemptStart;
        }
    }

    /** The current attempt's response head arrived with {@code status}. */
    public void responseHead(int status, long nanos) {
        if (attempts > 0) {
            statuses[attempts - 1] = status;
            headerNanos[attempts - 1] = nanos - attemptStart;
        }
    }

    /**
     * The current attempt is over; {@code status} is what nginx records for it when no head came
     * (502 for an error, 504 for a timeout), ignored when a head did come.
     */
    public void attemptEnded(int status, long nanos) {
        if (attempts > 0 && responseNanos[attempts - 1] == NONE) {
            int i = attempts - 1;
            if (statuses[i] == 0) {
                statuses[i] = status;
            }
            responseNanos[i] = nanos - attemptStart;
        }
    }

    /** The status the client gets ({@code $status}). */
    public void status(int status) {
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** Body bytes sent to the client ({@code $body_bytes_sent}). */
    public void bodyBytes(long n) {
        this.bodyBytes += n;
    }

    /** The exchange is over. */
    public void end(long nanos) {
        this.endNanos = nanos;
        if (attempts > 0) {
            attemptEnded(502, nanos);
        }
    }

    /** How many upstream attempts the exchange made. */
    public int attempts() {
        return attempts;
    }

    private void grow() {
        int n = hosts.length * 2;
        hosts = java.util.Arrays.copyOf(hosts, n);
        endpointIds = java.util.Arrays.copyOf(endpointIds, n);
        ports = java.util.Arrays.copyOf(ports, n);
        statuses = java.util.Arrays.copyOf(statuses, n);
        connectNanos = java.util.Arrays.copyOf(connectNanos, n);
        headerNanos = java.util.Arrays.copyOf(headerNanos, n);
        responseNanos = java.util.Arrays.copyOf(responseNanos, n);
    }
}

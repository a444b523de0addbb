package io.lbkit.health;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;

/** HTTP probes on one shared Jetty {@link HttpClient}: non-blocking, total timeout per probe, body capped. */
final class HttpProber {

    private static final HttpField USER_AGENT = new HttpField(HttpHeader.USER_AGENT, "lbkit-health-check");

    private final HttpClient client;

    HttpProber(int maxThreads) {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        QueuedThreadPool pool = new QueuedThreadPool(maxThreads, 2);
        pool.setName("lbkit-health-http");
        pool.setDaemon(true);
        connector.setExecutor(pool);
        HttpClient c = new HttpClient(new HttpClientTransportOverHTTP(connector));
        c.setExecutor(pool);
        c.setScheduler(new ScheduledExecutorScheduler("lbkit-health-http-timer", true));
        c.setFollowRedirects(false);
        c.setHttpCookieStore(new HttpCookieStore.Empty());
        c.setUserAgentField(USER_AGENT);
        c.setConnectTimeout(10_000);
        c.setIdleTimeout(30_000);
        c.setMaxConnectionsPerDestination(64);
        c.setMaxRequestsQueuedPerDestination(4096);
        this.client = c;
    }

    void start() throws Exception {
        client.start();
    }

    void stop() {
        try {
            client.stop();
        } catch (Exception e) {
            // nothing useful to do while closing
        }
    }

    CompletableFuture<ProbeOutcome> probe(String host, int port, HttpCheck spec, long timeoutMillis) {
        CompletableFuture<ProbeOutcome> future = new CompletableFuture<>();
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        Request request = client.newRequest(URI.create("http://" + h + ":" + port + spec.path()))
                .method(spec.method())
                .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .headers(fields -> {
                    spec.host().ifPresent(v -> fields.put(HttpHeader.HOST, v));
                    spec.headers().forEach(fields::put);
                    if (!spec.reuseConnection()) {
                        fields.put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
                    }
                });
        request.send(new Listener(spec, future, timeoutMillis));
        return future;
    }

    /** Evaluates status and headers on arrival and the body prefix as it streams; completes the future once. */
    private static final class Listener implements Response.Listener {
        private final HttpCheck spec;
        private final CompletableFuture<ProbeOutcome> future;
        private final long timeoutMillis;
        private int status;
        private byte[] body;
        private int length;
        private long seen;
        private Charset charset = StandardCharsets.UTF_8;
        private ProbeOutcome decided;

        Listener(HttpCheck spec, CompletableFuture<ProbeOutcome> future, long timeoutMillis) {
            this.spec = spec;
            this.future = future;
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public void onHeaders(Response response) {
            status = response.getStatus();
            if (!spec.expects(status)) {
                decide(ProbeOutcome.fail(status, "status " + status + " not in " + spec.expectedStatuses()));
                return;
            }
            if (spec.headerName().isPresent()) {
                String name = spec.headerName().get();
                String value = response.getHeaders().get(name);
                if (value == null) {
                    decide(ProbeOutcome.fail(status, "header " + name + " missing"));
                    return;
                }
                if (!spec.headerPattern().get().matcher(value).matches()) {
                    decide(ProbeOutcome.fail(status, "header " + name + " did not match"));
                    return;
                }
            }
            if (!spec.readsBody()) {
                // the rest of the body (at most maxBodyBytes) is read and dropped, so the exchange ends cleanly
                decide(ProbeOutcome.pass(status, "status " + status));
                return;
            }
            String ct = response.getHeaders().get(HttpHeader.CONTENT_TYPE);
            if (ct != null) {
                int i = ct.toLowerCase(java.util.Locale.ROOT).indexOf("charset=");
                if (i >= 0) {
                    String name = ct.substring(i + 8).split("[;\\s]")[0].replace("\"", "");
                    try {
                        charset = Charset.forName(name);
                    } catch (RuntimeException e) {
                        charset = StandardCharsets.UTF_8;
                    }
                }
            }
        }

        @Override
        public void onContent(Response response, ByteBuffer content) {
            int max = spec.maxBodyBytes();
            seen += content.remaining();
            if (decided != null) {
                // outcome known: drop the body, but never read more than the limit
                content.position(content.limit());
                if (seen > max) {
                    response.abort(new ProbeFinished());
                }
                return;
            }
            int take = Math.min(content.remaining(), max - length);
            if (body == null) {
                body = new byte[Math.min(max, Math.max(8192, take))];
            } else if (length + take > body.length) {
                body = java.util.Arrays.copyOf(body, Math.min(max, Math.max(body.length * 2, length + take)));
            }
            content.get(body, length, take);
            length += take;
            content.position(content.limit());
            if (length >= max) {
                decide(evaluateBody());
                response.abort(new ProbeFinished());
            }
        }

        @Override
        public void onComplete(Result result) {
            Throwable failure = result.getFailure();
            boolean ours = failure instanceof ProbeFinished;
            if (failure != null && !ours && (decided == null || decided.passed())) {
                // a failure after a good head (e.g. the body trickled past the timeout) fails the probe
                future.complete(ProbeOutcome.failure(failure, timeoutMillis));
            } else if (decided != null) {
                future.complete(decided);
            } else if (spec.readsBody()) {
                future.complete(evaluateBody());
            } else {
                future.complete(ProbeOutcome.pass(status, "status " + status));
            }
        }

        /** Records the outcome; the probe completes when the exchange does (the body is dropped, at most maxBodyBytes read). */
        private void decide(ProbeOutcome outcome) {
            if (decided == null) {
                decided = outcome;
            }
        }

        private ProbeOutcome evaluateBody() {
            String text = body == null ? "" : new String(body, 0, length, charset);
            boolean ok = spec.bodyContains().map(text::contains).orElse(true)
                    && spec.bodyPattern().map(p -> p.matcher(text).find()).orElse(true);
            return ok ? ProbeOutcome.pass(status, "status " + status + ", body matched")
                    : ProbeOutcome.fail(status, "body did not match");
        }
    }

    /** Aborts a response whose outcome is already known; never reported. */
    static final class ProbeFinished extends Exception {
        private static final long serialVersionUID = 1L;

        ProbeFinished() {
            super("probe finished", null, false, false);
        }
    }
}

package io.lbkit.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /api/stream}: the upstream status as server-sent events, one {@code status} event a
 * second, for the dashboard. Each event is the {@code GET /api/upstreams} object with, on every
 * peer, the rates of the last interval: {@code rps} (completed attempts per second),
 * {@code errors_per_s} (failures per second) and {@code latency_ms} ({@code avg}, {@code p50},
 * {@code p95}, {@code p99} of the responses in the interval, each percentile the upper bound of a
 * {@link LatencyBuckets} bucket, so at most 25 % high), null in the first event and when nothing
 * completed.
 *
 * <p>A stream holds one of the admin listener's four threads for as long as it is open, so at most
 * {@link #MAX_STREAMS} run at once (more are answered 503, leaving threads for the API). A stream
 * ends when a write fails (the client went away: at the next event or the one after), when the
 * request's token or address is no longer allowed (a reload changed {@code admin}), and when the
 * admin listener closes.
 */
final class AdminStream implements AutoCloseable {

    /** Streams open at once, at most. */
    static final int MAX_STREAMS = 2;
    private static final long INTERVAL_MILLIS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ProxyServer proxy;
    private final Semaphore permits = new Semaphore(MAX_STREAMS);
    private final CountDownLatch closed = new CountDownLatch(1);

    AdminStream(ProxyServer proxy) {
        this.proxy = proxy;
    }

    @Override
    public void close() {
        closed.countDown();
    }

    /**
     * Streams events to {@code x} until the client goes away, {@code allowed} turns false or this
     * closes; false (nothing sent) when {@link #MAX_STREAMS} streams are open already.
     */
    boolean serve(HttpExchange x, BooleanSupplier allowed) throws IOException {
        if (!permits.tryAcquire()) {
            return false;
        }
        try {
            x.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            x.getResponseHeaders().set("Cache-Control", "no-store");
            x.getResponseHeaders().set("X-Accel-Buffering", "no");
            x.sendResponseHeaders(200, 0);
            OutputStream out = x.getResponseBody();
            write(out, "retry: 2000\n\n");
            Map<String, Sample> previous = new HashMap<>();
            long previousNanos = 0;
            for (long id = 1; closed.getCount() > 0 && allowed.getAsBoolean(); id++) {
                long now = System.nanoTime();
                JsonNode event = event(previous, previousNanos == 0 ? 0 : now - previousNanos);
                previousNanos = now;
                try {
                    write(out, "event: status\nid: " + id + "\ndata: " + JSON.writeValueAsString(event) + "\n\n");
                } catch (IOException gone) {
                    return true; // the client went away
                }
                if (closed.await(INTERVAL_MILLIS, TimeUnit.MILLISECONDS)) {
                    break;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } finally {
            permits.release();
        }
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** One peer's cumulative counters at one time. */
    private record Sample(long attempts, long failures, long responses, long responseNanos, long[] latency) {

        static Sample of(PeerCounters.Peer p) {
            long[] l = new long[LatencyBuckets.COUNT];
            if (p == null) {
                return new Sample(0, 0, 0, 0, l);
            }
            for (int i = 0; i < l.length; i++) {
                l[i] = p.latency[i].sum();
            }
            return new Sample(p.attempts.sum(), p.failures.sum(), p.responses.sum(), p.responseNanos.sum(), l);
        }
    }

    /** The status of every upstream, each peer with its rates since {@code previous} ({@code elapsed} ns ago; 0: none). */
    private JsonNode event(Map<String, Sample> previous, long elapsedNanos) {
        ObjectNode out = JSON.createObjectNode();
        out.put("time", Instant.now().toString());
        out.put("interval_ms", elapsedNanos / 1_000_000);
        ObjectNode ups = out.putObject("upstreams");
        proxy.upstreams().forEach((name, u) -> {
            ObjectNode status = UpstreamStatus.json(u, proxy.monitor(name), proxy.checker(name), proxy.counters);
            for (JsonNode peer : status.get("peers")) {
                String id = peer.get("id").asText();
                Sample now = Sample.of(proxy.counters.get(id));
                Sample before = previous.put(name + '\n' + id, now);
                rates((ObjectNode) peer, before == null || elapsedNanos == 0 ? null : before, now, elapsedNanos);
            }
            ups.set(name, status);
        });
        return out;
    }

    private static void rates(ObjectNode peer, Sample before, Sample now, long elapsedNanos) {
        if (before == null) {
            peer.putNull("rps");
            peer.putNull("errors_per_s");
            peer.putNull("latency_ms");
            return;
        }
        double seconds = elapsedNanos / 1e9;
        peer.put("rps", round((now.attempts - before.attempts) / seconds));
        peer.put("errors_per_s", round((now.failures - before.failures) / seconds));
        long responses = now.responses - before.responses;
        if (responses <= 0) {
            peer.putNull("latency_ms");
            return;
        }
        long[] d = new long[LatencyBuckets.COUNT];
        for (int i = 0; i < d.length; i++) {
            d[i] = now.latency[i] - before.latency[i];
        }
        ObjectNode l = peer.putObject("latency_ms");
        l.put("avg", round((now.responseNanos - before.responseNanos) / 1e6 / responses));
        l.put("p50", round(LatencyBuckets.quantileMicros(d, 0.50) / 1e3));
        l.put("p95", round(LatencyBuckets.quantileMicros(d, 0.95) / 1e3));
        l.put("p99", round(LatencyBuckets.quantileMicros(d, 0.99) / 1e3));
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}

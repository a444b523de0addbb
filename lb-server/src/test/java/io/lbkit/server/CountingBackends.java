package io.lbkit.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/** Real Jetty backends on loopback that count the requests they serve, and a bounded traffic loop. */
final class CountingBackends implements AutoCloseable {

    private final List<Server> servers = new ArrayList<>();
    private final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
    private final AtomicBoolean trafficStop = new AtomicBoolean();
    private final AtomicInteger trafficFailures = new AtomicInteger();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();
    private Thread traffic;

    /** Starts a backend answering {@code backend NAME}; returns its port. */
    int start(String name) throws Exception {
        return start(name, new java.util.concurrent.CountDownLatch(1), new java.util.concurrent.CountDownLatch(0));
    }

    /**
     * Starts a backend answering {@code backend NAME}, whose {@code /slow} counts down
     * {@code entered} and then waits (at most 30 s) for {@code release}; returns its port.
     */
    int start(String name, java.util.concurrent.CountDownLatch entered, java.util.concurrent.CountDownLatch release)
            throws Exception {
        served.put(name, new AtomicInteger());
        Server s = new Server();
        ServerConnector c = new ServerConnector(s);
        c.setHost("127.0.0.1");
        s.addConnector(c);
        s.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (Request.getPathInContext(request).equals("/slow")) {
                    entered.countDown();
                    release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                }
                served.get(name).incrementAndGet();
                response.getHeaders().put("Content-Type", "text/plain");
                response.write(true, ByteBuffer.wrap(("backend " + name).getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        s.start();
        servers.add(s);
        return c.getLocalPort();
    }

    /** Requests {@code name} has served so far. */
    int served(String name) {
        return served.get(name).get();
    }

    /** Requests each backend has served so far, by name. */
    Map<String, Integer> served() {
        Map<String, Integer> out = new java.util.TreeMap<>();
        served.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /**
     * Sends requests to {@code uri} one after another on a thread of its own until {@link #close}
     * or {@code max} requests, counting answers other than 200.
     */
    void traffic(URI uri, int max) {
        traffic = new Thread(() -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            for (int i = 0; i < max && !trafficStop.get(); i++) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                        trafficFailures.incrementAndGet();
                        firstFailure.compareAndSet(null, r.statusCode() + " " + r.body());
                    }
                } catch (Exception e) {
                    if (!trafficStop.get()) {
                        trafficFailures.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    }
                }
            }
        }, "test-traffic");
        traffic.setDaemon(true);
        traffic.start();
    }

    /** Failed requests of the traffic loop so far, and the first one. */
    String failures() {
        return trafficFailures.get() + (firstFailure.get() == null ? "" : " (first: " + firstFailure.get() + ")");
    }

    int failureCount() {
        return trafficFailures.get();
    }

    /** Stops the traffic loop (waiting for it); the backends stay up. */
    void stopTraffic() throws InterruptedException {
        trafficStop.set(true);
        if (traffic != null) {
            traffic.join(30_000);
        }
    }

    @Override
    public void close() throws Exception {
        stopTraffic();
        for (Server s : servers) {
            s.stop();
        }
    }
}

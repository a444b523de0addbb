package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Outcome;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Endpoints given by host name: looked up by the JDK resolver on the resolver threads, never on an
 * event loop; an unknown or slow name is a failure of that endpoint only.
 */
class NameResolutionIT extends ProxyITBase {

    /** A name reserved never to resolve (RFC 6761). */
    private static final String UNKNOWN = "no-such-backend.invalid";

    /** The hosts looked up, with the thread that did it. */
    private final Queue<String> lookups = new ConcurrentLinkedQueue<>();
    private final Queue<String> outcomes = new ConcurrentLinkedQueue<>();

    private int start(ProxyConfig config, EndpointResolver.Lookup lookup) {
        proxy = NettyProxyServer.builder(config).bind("127.0.0.1", 0).workers(1).lookup(host -> {
            lookups.add(host + "@" + Thread.currentThread().getName());
            return lookup.lookup(host);
        }).build();
        proxy.start();
        return proxy.port();
    }

    private Upstream recorded(Upstream u) {
        u.setOutcomeListener((e, o, status, latency, failure) -> outcomes.add(e.id() + " " + o + " " + failure));
        return u;
    }

    /** Waits (bounded) in a lookup, which may throw nothing but UnknownHostException. */
    private static void awaitIn(CountDownLatch latch) throws UnknownHostException {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new UnknownHostException("the test did not release the lookup");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnknownHostException("interrupted");
        }
    }

    @Test
    void anEndpointGivenAsLocalhostIsServedAndLookedUpOffTheLoop() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        Upstream u = Upstream.builder("up").endpoint(Endpoint.of("localhost", a.port())).build();
        int port = start(config(u).build(), InetAddress::getAllByName);
        for (int i = 0; i < 2; i++) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get("/x")).read();
                assertEquals(200, r.status());
                assertEquals("a", r.text());
            }
        }
        assertEquals("127.0.0.1", InetAddress.getAllByName("localhost")[0].getHostAddress(),
                "this test needs localhost to resolve to 127.0.0.1 first");
        assertFalse(lookups.isEmpty());
        for (String l : lookups) {
            assertTrue(l.startsWith("localhost@lbkit-resolver-"), l);
        }
    }

    @Test
    void anIpLiteralIsNeverLookedUp() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        int port = start(config(upstream(a)).build(), InetAddress::getAllByName);
        try (RawClient c = new RawClient(port)) {
            assertEquals("a", c.send(RawClient.get("/x")).read().text());
        }
        assertEquals(List.of(), List.copyOf(lookups));
    }

    @Test
    void anUnresolvableNameIs502AndAConnectFailureOfThatEndpoint() throws Exception {
        Upstream u = recorded(Upstream.builder("up").endpoint(Endpoint.of(UNKNOWN, 8080)).build());
        int port = start(config(u).build(), InetAddress::getAllByName);
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(502, r.status());
            assertEquals("502 Bad Gateway\n", r.text());
        }
        assertEquals(List.of(UNKNOWN + ":8080 CONNECT_FAILURE true"), List.copyOf(outcomes));
    }

    @Test
    void anUnresolvableNameIsRetriedOnTheNextEndpoint() throws Exception {
        TestBackend live = backend(TestBackend.named("live"));
        Upstream u = recorded(Upstream.builder("up").endpoint(Endpoint.of(UNKNOWN, 8080))
                .endpoint(Endpoint.of("127.0.0.1", live.port())).build());
        int port = start(config(u).build(), InetAddress::getAllByName);
        for (int i = 0; i < 4; i++) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get("/x")).read();
                assertEquals(200, r.status());
                assertEquals("live", r.text());
            }
        }
        assertTrue(outcomes.contains(UNKNOWN + ":8080 CONNECT_FAILURE true"), outcomes.toString());
        assertEquals(1, u.status(UNKNOWN + ":8080").orElseThrow().fails()); // then out for fail_timeout
        assertEquals(4, live.requests.size());
    }

    @Test
    void aSlowLookupDoesNotHoldTheLoop() throws Exception {
        TestBackend slow = backend(TestBackend.named("slow"));
        TestBackend fast = backend(TestBackend.named("fast"));
        CountDownLatch lookingUp = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        ProxyConfig config = ProxyConfig.builder().connectTimeout(Duration.ofSeconds(60))
                .route(Route.builder("slow", Upstream.builder("s").endpoint(Endpoint.of("slow.test", slow.port()))
                        .build()).pathPrefix("/slow").build())
                .route(Route.builder("fast", upstream(fast)).pathPrefix("/").build()).build();
        int port = start(config, host -> {
            if (host.equals("slow.test")) {
                lookingUp.countDown();
                awaitIn(answer);
                return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
            }
            throw new UnknownHostException(host);
        });
        CompletableFuture<RawClient.Response> held = CompletableFuture.supplyAsync(() -> {
            try (RawClient c = new RawClient(port)) {
                return c.send(RawClient.get("/slow")).read();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(lookingUp.await(20, TimeUnit.SECONDS));
        // the only loop serves another client while the lookup is held
        for (int i = 0; i < 3; i++) {
            try (RawClient c = new RawClient(port)) {
                RawClient.Response r = c.send(RawClient.get("/fast")).read();
                assertEquals(200, r.status());
                assertEquals("fast", r.text());
            }
        }
        assertFalse(held.isDone());
        assertEquals(0, slow.connections.get());
        answer.countDown();
        RawClient.Response r = held.get(20, TimeUnit.SECONDS);
        assertEquals(200, r.status());
        assertEquals("slow", r.text());
    }

    @Test
    void aLookupLongerThanTheConnectTimeoutIs504() throws Exception {
        Upstream u = recorded(Upstream.builder("up").endpoint(Endpoint.of("stuck.test", 8080)).build());
        CountDownLatch lookingUp = new CountDownLatch(1);
        int port = start(config(u).connectTimeout(Duration.ofMillis(200)).build(), host -> {
            lookingUp.countDown();
            awaitIn(release); // until the test ends: the connect timeout answers first
            throw new UnknownHostException(host);
        });
        try (RawClient c = new RawClient(port)) {
            RawClient.Response r = c.send(RawClient.get("/x")).read();
            assertEquals(504, r.status());
        }
        assertEquals(0, lookingUp.getCount());
        assertEquals(List.of("stuck.test:8080 TIMEOUT true"), List.copyOf(outcomes));
    }

    @Test
    void theResolverThreadsEndWithTheServer() throws Exception {
        TestBackend a = backend(TestBackend.named("a"));
        Upstream u = Upstream.builder("up").endpoint(Endpoint.of("named.test", a.port())).build();
        Thread[] worker = new Thread[1];
        CountDownLatch answered = new CountDownLatch(1);
        int port = start(config(u).build(), host -> {
            worker[0] = Thread.currentThread();
            answered.countDown();
            return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
        });
        try (RawClient c = new RawClient(port)) {
            assertEquals("a", c.send(RawClient.get("/x")).read().text());
        }
        assertTrue(answered.await(5, TimeUnit.SECONDS));
        assertTrue(worker[0].isAlive()); // kept for the next lookup
        proxy.stop(Duration.ofSeconds(5));
        proxy = null;
        worker[0].join(10_000);
        assertFalse(worker[0].isAlive());
    }
}

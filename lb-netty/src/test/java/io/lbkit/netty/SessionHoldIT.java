package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lbkit.proxy.FanOut;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.proxy.SessionForwarding;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import java.io.OutputStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Session forwarding on the event loop where it differs from a plain exchange: a response head
 * whose {@code X-New-Session-Data} the store is still saving is held, and the backend is not read
 * meanwhile (back-pressure, no buffering); the store completes on another thread and the exchange
 * goes on on its loop. Leak detector at PARANOID (see {@link ProxyITBase}).
 */
class SessionHoldIT extends ProxyITBase {

    private static final long SIZE = 64L << 20;

    private final GatedStore store = new GatedStore(InMemorySessionStore.builder().build());

    @AfterEach
    void closeStore() {
        store.gate.complete(null);
        store.close();
    }

    @Test
    void aHeadWaitingForTheStoreReadsNoMoreOfTheBackendAndTheBodyFollowsWhole() throws Exception {
        AtomicLong written = new AtomicLong();
        long[] crc = new long[1];
        TestBackend a = backend(new TestBackend("gen", (req, body, out) -> {
            TestBackend.head(out, "HTTP/1.1 200 OK", "Content-Type: application/octet-stream",
                    "Content-Length: " + SIZE, "X-New-Session-Data: {\"user\":\"bob\"}");
            crc[0] = generate(out, written);
        }));
        int port = start(config(upstream(a)).sessionForwarding(SessionForwarding.builder(store).build()).build());
        try (RawClient c = new RawClient(port)) {
            c.send(RawClient.get("/down"));
            assertTrue(store.createCalled.await(20, TimeUnit.SECONDS), "the store was asked to create the session");
            long stalled = awaitStable(written);
            // what the sockets' buffers and one read of the proxy hold: far below the body
            assertTrue(stalled < SIZE / 4, "the backend wrote " + stalled + " bytes while the head was held");
            store.gate.complete(null); // the create completes on this thread: the exchange hops back onto its loop
            CrcSink sink = new CrcSink();
            RawClient.Response r = c.read(false, sink);
            assertEquals(200, r.status());
            assertEquals(SIZE, sink.count);
            assertEquals(crc[0], sink.crc.getValue());
            String cookie = r.header("Set-Cookie");
            assertNotNull(cookie, "the held head got the new session's cookie");
            assertTrue(cookie.startsWith("LBSESSION="), cookie);
            String id = cookie.substring("LBSESSION=".length(), cookie.indexOf(';'));
            assertEquals("bob", store.load(id).orElseThrow().attribute("user").textValue());
            assertEquals(null, r.header("X-New-Session-Data"));
        }
    }

    @Test
    void aClientThatLeavesWhileTheHeadIsHeldLeavesNothingBehind() throws Exception {
        TestBackend a = backend(new TestBackend("small", (req, body, out) ->
                TestBackend.respond(out, 200, "hello", "X-New-Session-Data: {\"n\":1}")));
        int port = start(config(upstream(a)).sessionForwarding(SessionForwarding.builder(store).build()).build());
        RawClient c = new RawClient(port);
        c.send(RawClient.get("/x"));
        assertTrue(store.createCalled.await(20, TimeUnit.SECONDS));
        c.close();
        store.gate.complete(null);
        // the loop goes on serving; the held body was released (LeakWatch after the test)
        try (RawClient next = new RawClient(port)) {
            RawClient.Response r = next.send(RawClient.get("/y")).read();
            assertEquals(200, r.status());
            assertEquals("hello", r.text());
        }
    }

    @Test
    void aFanOutAnswerWaitingForTheStoreEndsCleanlyWhenTheClientLeaves() throws Exception {
        TestBackend a = backend(new TestBackend("fan", (req, body, out) ->
                TestBackend.respond(out, 200, "hello", "X-New-Session-Data: {\"n\":1}")));
        int port = start(ProxyConfig.builder()
                .route(Route.builder("fan", upstream(a)).broadcast(FanOut.builder().build()).build())
                .sessionForwarding(SessionForwarding.builder(store).build()).build());
        RawClient c = new RawClient(port);
        c.send(RawClient.get("/x"));
        assertTrue(store.createCalled.await(20, TimeUnit.SECONDS));
        c.close();
        store.gate.complete(null);
        try (RawClient next = new RawClient(port)) {
            RawClient.Response r = next.send(RawClient.get("/y")).read();
            assertEquals(200, r.status());
            assertEquals("hello", r.text());
            assertNotNull(r.header("Set-Cookie"), "the decided answer got the new session's cookie");
        }
    }

    /** Polls {@code counter} until it has not moved for half a second (bounded); its value then. */
    private static long awaitStable(AtomicLong counter) throws InterruptedException {
        long last = -1;
        int still = 0;
        for (int i = 0; i < 400 && still < 5; i++) {
            long now = counter.get();
            still = now == last ? still + 1 : 0;
            last = now;
            Thread.sleep(100);
        }
        return last;
    }

    private static long generate(OutputStream out, AtomicLong written) throws java.io.IOException {
        CRC32 crc = new CRC32();
        byte[] b = new byte[65536];
        for (long sent = 0; sent < SIZE; sent += b.length) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) ((sent + i) * 31 + 7);
            }
            out.write(b);
            crc.update(b);
            written.addAndGet(b.length);
        }
        out.flush();
        return crc.getValue();
    }

    private static final class CrcSink extends OutputStream {
        final CRC32 crc = new CRC32();
        long count;

        @Override
        public void write(int b) {
            crc.update(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            crc.update(b, off, len);
            count += len;
        }
    }

    /** A real in-memory store whose asynchronous create completes when the test opens the gate, on the test's thread. */
    private static final class GatedStore implements SessionStore {
        final CompletableFuture<Void> gate = new CompletableFuture<>();
        final CountDownLatch createCalled = new CountDownLatch(1);
        private final SessionStore d;

        GatedStore(SessionStore d) {
            this.d = d;
        }

        @Override
        public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
            createCalled.countDown();
            return gate.thenApply(v -> d.create(attributes));
        }

        @Override
        public Session create(Map<String, JsonNode> attributes) {
            return d.create(attributes);
        }

        @Override
        public Optional<Session> load(String id) {
            return d.load(id);
        }

        @Override
        public Optional<Session> save(String id, SessionChanges changes) {
            return d.save(id, changes);
        }

        @Override
        public boolean delete(String id) {
            return d.delete(id);
        }

        @Override
        public Optional<Session> changeId(String id) {
            return d.changeId(id);
        }

        @Override
        public Registration addListener(SessionListener listener) {
            return d.addListener(listener);
        }

        @Override
        public SessionSettings settings() {
            return d.settings();
        }

        @Override
        public void close() {
            d.close();
        }
    }
}

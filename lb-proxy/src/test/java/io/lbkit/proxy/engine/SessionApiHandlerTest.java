package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.proxy.SessionApi;
import io.lbkit.session.InMemorySessionStore;
import io.lbkit.session.Session;
import io.lbkit.session.SessionChanges;
import io.lbkit.session.SessionIds;
import io.lbkit.session.SessionListener;
import io.lbkit.session.SessionSettings;
import io.lbkit.session.SessionStore;
import io.lbkit.session.SessionStoreException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The session API's rules without a transport: requests in, answers out, on a real in-memory store. */
class SessionApiHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token-0123456789";
    private final InMemorySessionStore store = InMemorySessionStore.builder()
            .settings(SessionSettings.builder().maxSessionBytes(1024).build()).build();
    private final SessionApiHandler api = new SessionApiHandler(SessionApi.builder(store).build());

    @AfterEach
    void close() {
        store.close();
    }

    private static TestRequest post(String body) {
        return new TestRequest("POST", "/session").header("Content-Type", "application/json")
                .header("Content-Length", String.valueOf(body.getBytes(StandardCharsets.UTF_8).length));
    }

    private static LocalAnswer answer(SessionApiHandler h, TestRequest req, String body) {
        CompletableFuture<LocalAnswer> f = h.handle(req, "/session", body.getBytes(StandardCharsets.UTF_8))
                .toCompletableFuture();
        assertTrue(f.isDone(), "the in-memory store answers at once");
        return f.join();
    }

    private LocalAnswer answer(TestRequest req, String body) {
        return answer(api, req, body);
    }

    private static JsonNode json(LocalAnswer a) throws Exception {
        assertEquals("application/json;charset=utf-8", a.header("Content-Type"));
        assertEquals("no-store", a.header("Cache-Control"));
        return JSON.readTree(a.body());
    }

    private static String error(LocalAnswer a) throws Exception {
        return json(a).get("error").textValue();
    }

    @Test
    void createReadUpdateDelete() throws Exception {
        LocalAnswer created = answer(post("{\"b\":2,\"a\":1,\"gone\":null}"), "{\"b\":2,\"a\":1,\"gone\":null}");
        assertEquals(201, created.status());
        JsonNode c = json(created);
        String id = c.get("session_id").textValue();
        assertTrue(SessionIds.isWellFormed(id));
        assertEquals(JSON.readTree("{\"a\":1,\"b\":2}"), c.get("data"));
        assertEquals("/session?session_id=" + id, created.header("Location"));
        assertEquals("\"1\"", created.header("ETag"));

        LocalAnswer read = answer(new TestRequest("GET", "/session").query("session_id=" + id), "");
        assertEquals(200, read.status());
        assertEquals(c.get("data"), json(read).get("data"));
        LocalAnswer byCookie = answer(new TestRequest("HEAD", "/session").header("Cookie", "x=1; LBSESSION=" + id), "");
        assertEquals(200, byCookie.status());
        assertEquals(id, json(byCookie).get("session_id").textValue());

        LocalAnswer patched = answer(new TestRequest("PUT", "/session").query("session_id=" + id)
                .header("Content-Type", "application/merge-patch+json"), "{\"a\":null,\"c\":{\"d\":true}}");
        assertEquals(200, patched.status());
        assertEquals(JSON.readTree("{\"b\":2,\"c\":{\"d\":true}}"), json(patched).get("data"));
        assertEquals("\"2\"", patched.header("ETag"));

        LocalAnswer stale = answer(new TestRequest("PUT", "/session").query("session_id=" + id)
                .header("Content-Type", "application/json").header("If-Match", "\"1\""), "{\"b\":3}");
        assertEquals(412, stale.status());
        assertEquals("version conflict: the session is at version 2, If-Match asked for 1", error(stale));
        assertEquals("\"2\"", stale.header("ETag"));

        LocalAnswer deleted = answer(new TestRequest("DELETE", "/session").query("session_id=" + id), "");
        assertEquals(204, deleted.status());
        assertEquals(0, deleted.body().length);
        assertEquals("no-store", deleted.header("Cache-Control"));
        assertEquals(404, answer(new TestRequest("DELETE", "/session").query("session_id=" + id), "").status());
        LocalAnswer gone = answer(new TestRequest("GET", "/session").query("session_id=" + id), "");
        assertEquals(404, gone.status());
        assertEquals("session not found", error(gone));
    }

    /** What the head decides is refused before any body is read, in the order the checks run. */
    @Test
    void theHeadAloneDecidesRefusals() throws Exception {
        SessionApiHandler guarded = new SessionApiHandler(SessionApi.builder(store).token(TOKEN).loopbackOnly().build());
        TestRequest fromAfar = post("{}").header("Authorization", "Bearer " + TOKEN);
        assertEquals("forbidden", error(guarded.refusal(fromAfar, "/session")));
        assertEquals(403, guarded.refusal(fromAfar, "/session").status());

        LocalAnswer missing = guarded.refusal(post("{}").remoteAddress("127.0.0.1"), "/session");
        assertEquals(401, missing.status());
        assertEquals("Bearer realm=\"lbkit-session-api\"", missing.header("WWW-Authenticate"));
        assertEquals(403, guarded.refusal(post("{}").remoteAddress("::1").header("X-Session-Api-Token", TOKEN + "x"),
                "/session").status());
        assertNull(guarded.refusal(post("{}").remoteAddress("127.0.0.1").header("X-Session-Api-Token", TOKEN), "/session"));
        assertNull(guarded.refusal(post("{}").remoteAddress("127.0.0.1").header("Authorization", "bearer " + TOKEN),
                "/session"));

        LocalAnswer patch = api.refusal(new TestRequest("PATCH", "/session"), "/session");
        assertEquals(405, patch.status());
        assertEquals("GET, HEAD, POST, PUT, DELETE", patch.header("Allow"));
        assertEquals("Content-Type must be application/json, got text/plain",
                error(api.refusal(new TestRequest("POST", "/session").header("Content-Type", "text/plain; charset=x"),
                        "/session")));
        assertEquals("Content-Type must be application/json, got none",
                error(api.refusal(new TestRequest("POST", "/session"), "/session")));
        assertEquals("POST creates a session with a server-chosen id; do not send session_id",
                error(api.refusal(post("{}").query("session_id=" + SessionIds.generate()), "/session")));
        LocalAnswer untyped = api.refusal(new TestRequest("PUT", "/session").query("session_id=" + SessionIds.generate()),
                "/session");
        assertEquals(415, untyped.status());
        assertEquals("application/merge-patch+json", untyped.header("Accept-Patch"));
        assertEquals("If-Match must be a version ETag such as \"3\"", error(api.refusal(new TestRequest("PUT", "/session")
                .query("session_id=" + SessionIds.generate()).header("Content-Type", "application/json")
                .header("If-Match", "W/\"3\""), "/session")));
        assertEquals("session_id is required (query parameter or LBSESSION cookie)",
                error(api.refusal(new TestRequest("GET", "/session"), "/session")));
        assertEquals("malformed session_id", error(api.refusal(new TestRequest("DELETE", "/session").query("session_id=short"),
                "/session")));
        assertEquals("malformed session_id", error(api.refusal(new TestRequest("GET", "/session").query("session_id=%zz"),
                "/session")));

        assertEquals(2048, api.maxBodyBytes());
        LocalAnswer declared = api.refusal(new TestRequest("POST", "/session").header("Content-Type", "application/json")
                .header("Content-Length", "2049"), "/session");
        assertEquals(413, declared.status());
        assertEquals("request body of 2049 bytes is over the limit of 2048", error(declared));
        assertEquals("request body is over the limit of 2048 bytes", error(api.bodyTooLarge()));
        assertEquals(413, api.bodyTooLarge().status());
    }

    @Test
    void badBodiesAndOversizedSessionsAreRefusedAndNothingIsWritten() throws Exception {
        assertEquals("duplicate key at /a", error(answer(post("x"), "{\"a\":1,\"a\":2}")));
        assertEquals("the body must be a JSON object, got an array", error(answer(post("x"), "[1]")));
        assertEquals("a JSON object body is required", error(answer(post("x"), "")));
        LocalAnswer surrogate = answer(post("x"), "{\"a\":\"\\ud800\"}");
        assertEquals(400, surrogate.status());
        assertTrue(error(surrogate).startsWith("session attribute 'a' has a string with an unpaired UTF-16 surrogate"));
        LocalAnswer tooBig = answer(post("x"), "{\"a\":\"" + "x".repeat(1500) + "\"}");
        assertEquals(413, tooBig.status());
        assertTrue(error(tooBig).contains("maxSessionBytes=1024"), error(tooBig));
        assertEquals(0, store.estimatedSize());
    }

    /** The answer waits for the store's own stage, which may complete on another thread. */
    @Test
    void answersFollowTheStoresAsynchronousStages() throws Exception {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        SessionApiHandler late = new SessionApiHandler(SessionApi.builder(new GatedStore(store, gate)).build());
        String id = store.create(Map.of()).id();
        CompletableFuture<LocalAnswer> read = late.handle(new TestRequest("GET", "/session").query("session_id=" + id),
                "/session", new byte[0]).toCompletableFuture();
        CompletableFuture<LocalAnswer> deleted = late.handle(new TestRequest("DELETE", "/session")
                .query("session_id=" + SessionIds.generate()), "/session", new byte[0]).toCompletableFuture();
        assertFalse(read.isDone());
        assertFalse(deleted.isDone());
        Thread other = new Thread(() -> gate.complete(null));
        other.start();
        other.join();
        assertEquals(id, json(read.get()).get("session_id").textValue());
        assertEquals(404, deleted.get().status());
    }

    @Test
    void aStoreFailureIs503WithRetryAfterWhetherThrownOrInTheStage() throws Exception {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        SessionApiHandler failing = new SessionApiHandler(SessionApi.builder(new GatedStore(store, gate)).build());
        CompletableFuture<LocalAnswer> inStage = failing.handle(post("{}"), "/session", "{}".getBytes())
                .toCompletableFuture();
        gate.completeExceptionally(new SessionStoreException("down (test)"));
        LocalAnswer a = inStage.get();
        assertEquals(503, a.status());
        assertEquals("1", a.header("Retry-After"));
        assertEquals("session store unavailable", error(a));

        SessionApiHandler throwing = new SessionApiHandler(SessionApi.builder(new GatedStore(store, null)).build());
        LocalAnswer thrown = answer(throwing, new TestRequest("GET", "/session").query("session_id=" + SessionIds.generate()),
                "");
        assertEquals(503, thrown.status());
        assertArrayEquals("{\"error\":\"session store unavailable\"}".getBytes(StandardCharsets.UTF_8), thrown.body());
    }

    @Test
    void settingsAreValidatedNamingTheField() {
        assertEquals("token must be at least 16 characters, got 5 characters",
                assertThrows(IllegalArgumentException.class, () -> SessionApi.builder(store).token("short")).getMessage());
        assertEquals("cookieName must be a non-empty RFC 6265 token, got 'a b'",
                assertThrows(IllegalArgumentException.class, () -> SessionApi.builder(store).cookieName("a b")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> SessionApiHandler.checkMountPath("session"));
        assertThrows(IllegalArgumentException.class, () -> SessionApiHandler.checkMountPath("/session/*"));
        assertEquals("/session", SessionApiHandler.checkMountPath("/session"));
        assertFalse(SessionApi.builder(store).token(TOKEN).build().toString().contains(TOKEN));
    }

    /**
     * A real store whose asynchronous calls complete only when {@code gate} does (with its
     * failure, if it fails); with a null gate every call throws as a store whose server is down.
     */
    private record GatedStore(SessionStore delegate, CompletableFuture<Void> gate) implements SessionStore {

        private <T> CompletionStage<T> after(java.util.function.Supplier<T> call) {
            if (gate == null) {
                throw new SessionStoreException("down (test)");
            }
            return gate.thenApply(x -> call.get());
        }

        @Override
        public CompletionStage<Session> createAsync(Map<String, JsonNode> attributes) {
            return after(() -> delegate.create(attributes));
        }

        @Override
        public CompletionStage<Optional<Session>> loadAsync(String id) {
            return after(() -> delegate.load(id));
        }

        @Override
        public CompletionStage<Optional<Session>> saveAsync(String id, SessionChanges changes) {
            return after(() -> delegate.save(id, changes));
        }

        @Override
        public CompletionStage<Boolean> deleteAsync(String id) {
            return after(() -> delegate.delete(id));
        }

        @Override
        public Session create(Map<String, JsonNode> attributes) {
            throw new AssertionError("blocking call");
        }

        @Override
        public Optional<Session> load(String id) {
            throw new AssertionError("blocking call");
        }

        @Override
        public Optional<Session> save(String id, SessionChanges changes) {
            throw new AssertionError("blocking call");
        }

        @Override
        public boolean delete(String id) {
            throw new AssertionError("blocking call");
        }

        @Override
        public Optional<Session> changeId(String id) {
            throw new AssertionError("blocking call");
        }

        @Override
        public Registration addListener(SessionListener listener) {
            return delegate.addListener(listener);
        }

        @Override
        public SessionSettings settings() {
            return delegate.settings();
        }

        @Override
        public void close() {
        }
    }
}

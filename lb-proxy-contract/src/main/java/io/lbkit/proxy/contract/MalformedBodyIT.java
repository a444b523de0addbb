package io.lbkit.proxy.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A chunked request body the client gets wrong (nginx: "client sent invalid chunked body", 400):
 * the client gets 400 and the connection closes, and no backend ever gets a complete request out of
 * it: what was streamed to a backend before the bad chunk is cut there, and that endpoint is not
 * blamed.
 *
 * <p>Engines differ on purpose in what the client gets: the event-loop engine ({@code netty}) parses
 * the body itself and answers 400 with {@code Connection: close}, as nginx; the servlet engines get
 * a malformed body and one cut off alike, as an {@code IOException} from the container, and close
 * the connection without an answer (docs/proxy.md lists it).
 */
class MalformedBodyIT {

    static TestBackend a;

    @BeforeAll
    static void backends() throws Exception {
        a = new TestBackend("a");
    }

    @AfterAll
    static void stop() {
        a.close();
    }

    static final String[] BODIES = {
        "5\r\nhello\r\nzz\r\nabc\r\n0\r\n\r\n",        // a chunk size that is not hex
        "5\r\nhelloXY3\r\nabc\r\n0\r\n\r\n",          // no CRLF after the chunk's data
        "5\r\nhello\r\n0\r\nno colon here\r\n\r\n",   // a trailer line that is not a field
    };

    @ParameterizedTest
    @MethodSource("io.lbkit.proxy.contract.Engines#all")
    void aMalformedChunkedBodyIs400AndNoBackendGetsItAsAValidRequest(ProxyEngine kind) throws Exception {
        Upstream up = Upstream.builder("u").endpoint(ProxyFixture.endpoint(a)).build();
        Map<String, List<String>> seen = Outcomes.record(up);
        try (ProxyFixture p = new ProxyFixture(kind, ProxyConfig.builder().route(Route.builder("all", up).build()).build())) {
            int completed = a.completed("/upload");
            for (String body : BODIES) {
                String raw = RawHttp.exchange(p.port(), "POST /upload HTTP/1.1", "Host: x", "Transfer-Encoding: chunked",
                        "Content-Type: text/plain", "", body);
                if (p.engineName().equals("netty")) {
                    assertEquals(400, RawHttp.status(raw), body + " -> " + raw);
                    assertTrue(RawHttp.head(raw).toLowerCase(Locale.ROOT).contains("connection: close"), raw);
                } else {
                    assertEquals("", raw, "the servlet engines close without an answer: " + body);
                }
            }
            String ok = RawHttp.exchange(p.port(), "POST /upload HTTP/1.1", "Host: x", "Transfer-Encoding: chunked",
                    "Connection: close", "", "5\r\nhello\r\n0\r\n\r\n");
            assertEquals(200, RawHttp.status(ok), ok);
            for (int i = 0; i < 1000 && a.completed("/upload") <= completed; i++) {
                Thread.sleep(10); // the backend counts a request once its handler returned, maybe after the client read the answer
            }
            assertEquals(completed + 1, a.completed("/upload"), "only the well-formed body completed at the backend");
        }
        List<String> outcomes = seen.getOrDefault(ProxyFixture.endpoint(a).id(), List.of());
        assertTrue(outcomes.stream().noneMatch(o -> !o.equals("CANCELLED") && !o.equals("RESPONSE 200")),
                "a client's bad body never blames the endpoint: " + outcomes);
    }
}

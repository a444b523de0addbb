package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResponseHeaderRulesTest {

    private static final ProxyConfig CONFIG = ProxyConfig.builder()
            .route(Route.builder("r", Upstream.builder("u").endpoint(Endpoint.of("10.0.0.1", 80)).build()).build())
            .build();

    private static List<String> apply(ProxyConfig config, String protocol, String... nameValues) {
        List<Map.Entry<String, String>> in = new ArrayList<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            in.add(Map.entry(nameValues[i], nameValues[i + 1]));
        }
        List<String> out = new ArrayList<>();
        ResponseHeaderRules.apply(config, in, protocol, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.add(name + ": " + value);
            }

            @Override
            public void set(String name, String value) {
                out.removeIf(f -> f.regionMatches(true, 0, name + ":", 0, name.length() + 1));
                out.add(name + ": " + value);
            }
        });
        return out;
    }

    @Test
    void hopByHopSessionAndHiddenFieldsStayBehind() {
        List<String> out = apply(CONFIG, "HTTP/1.1",
                "Connection", "close, X-Private", "X-Private", "1", "Keep-Alive", "timeout=5",
                "Transfer-Encoding", "chunked", "Content-Length", "12", "X-New-Session-Data", "{}",
                "x_session_id", "s", "X-Accel-Redirect", "/internal", "X-Pad", "avoid browser bug",
                "Content-Type", "text/plain", "Set-Cookie", "a=1", "Set-Cookie", "b=2");
        assertEquals(List.of("Content-Type: text/plain", "Set-Cookie: a=1", "Set-Cookie: b=2", "Via: 1.1 lbkit"), out);
    }

    @Test
    void viaIsAppendedToTheBackendsWithItsVersion() {
        assertEquals(List.of("Via: 1.0 cache, 1.1 edge, 1.0 lbkit"),
                apply(CONFIG, "HTTP/1.0", "Via", "1.0 cache", "Via", "1.1 edge"));
    }

    @Test
    void theServedByHeaderNamesTheEndpoint() {
        List<String> out = new ArrayList<>();
        ResponseHeaderRules.identify(CONFIG, "app-1", null, false, new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.add(name + ": " + value);
            }

            @Override
            public void set(String name, String value) {
                out.add(name + ": " + value);
            }
        });
        assertEquals(List.of("X-Served-By: app-1"), out);
    }

    @Test
    void errorAnswersAreOneLine() {
        assertEquals("502 Bad Gateway\n", new String(ErrorAnswer.body(502), java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("Gateway Timeout", ErrorAnswer.reason(504));
        assertEquals(true, ErrorAnswer.closesConnection(413));
        assertEquals(false, ErrorAnswer.closesConnection(502));
    }
}

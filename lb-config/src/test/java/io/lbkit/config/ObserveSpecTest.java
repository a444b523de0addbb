package io.lbkit.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lbkit.proxy.engine.LogFormat;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ObserveSpecTest {

    private static final String UPSTREAMS = "upstreams: { app: { endpoints: [127.0.0.1:9001] } }\n";

    private static ServeConfig parse(String text) {
        return ConfigLoader.parse("lbkit.yaml", UPSTREAMS + text, Map.<String, String>of()::get);
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    @Test
    void noneByDefault() {
        assertEquals(ObserveSpec.NONE, parse("").observe());
        assertNull(parse("accessLog: { path: off }").observe().accessLog());
        assertNull(parse("accessLog: off").observe().accessLog());
        assertNull(parse("requestId: off").observe().requestIdHeader());
    }

    @Test
    void namedInlineAndCombinedFormats() {
        ServeConfig c = parse("""
                logFormats:
                  timed: '$remote_addr "$request" $status $upstream_addr $upstream_response_time'
                accessLog: { path: /var/log/lbkit/access.log, format: timed, escape: json }
                requestId: X-Request-ID
                statusPath: /nginx_status
                """);
        ObserveSpec o = c.observe();
        assertEquals(Path.of("/var/log/lbkit/access.log"), o.accessLog().path());
        assertEquals("$remote_addr \"$request\" $status $upstream_addr $upstream_response_time", o.accessLog().format().text());
        assertEquals(LogFormat.Escape.JSON, o.accessLog().format().escape());
        assertEquals("X-Request-ID", o.requestIdHeader());
        assertEquals("/nginx_status", o.statusPath());
        ObserveSpec d = parse("accessLog: { path: stdout }").observe();
        assertNull(d.accessLog().path());
        assertEquals(LogFormat.COMBINED, d.accessLog().format().text());
        assertEquals(LogFormat.Escape.DEFAULT, d.accessLog().format().escape());
        assertEquals("$status $request_time", parse("accessLog: { path: stdout, format: '$status $request_time' }").observe()
                .accessLog().format().text());
    }

    @Test
    void errorsNameThePathAndTheValue() {
        assertEquals("lbkit.yaml: accessLog.format: access log format: unknown variable '$nope'",
                error("accessLog: { path: stdout, format: '$status $nope' }"));
        assertEquals("lbkit.yaml: accessLog.format: names no format of logFormats (combined) and is no format text, got 'main'",
                error("accessLog: { path: stdout, format: main }"));
        assertEquals("lbkit.yaml: accessLog.escape: must be default, json or none, got 'xml'",
                error("accessLog: { path: stdout, escape: xml }"));
        assertEquals("lbkit.yaml: accessLog.path: is required", error("accessLog: { format: combined }"));
        assertEquals("lbkit.yaml: statusPath: must be a path starting with /, got 'status'", error("statusPath: status"));
        assertEquals("lbkit.yaml: requestId: must be a header name (such as X-Request-ID) or off, got 'a b'",
                error("requestId: 'a b'"));
        assertEquals("lbkit.yaml: logFormats.combined: 'combined' is predefined (nginx's combined format)",
                error("logFormats: { combined: '$status' }"));
    }
}

package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lbkit.core.Endpoint;
import io.lbkit.core.Upstream;
import io.lbkit.proxy.AddedHeaders;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.proxy.Route;
import io.lbkit.testing.NginxFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AddedHeaderRules} against nginx's {@code add_header}, with and without {@code always}, on
 * answers of 21 statuses, and nginx's inheritance (a location with its own {@code add_header}
 * takes none of the server's): the same fields on the same answers.
 */
class AddedHeadersNginxIT {

    private static final int[] STATUSES = {200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405,
        410, 429, 500, 502, 503, 504};

    private static final Upstream UP = Upstream.builder("u").endpoint(Endpoint.of("127.0.0.1", 1)).build();

    private static List<String> lbkit(ProxyConfig config, Route route, int status) {
        List<String> out = new ArrayList<>();
        AddedHeaderRules.apply(config, route, status, "http", new HeaderSink() {
            @Override
            public void add(String name, String value) {
                out.add(name.toLowerCase(java.util.Locale.ROOT) + ": " + value);
            }

            @Override
            public void set(String name, String value) {
                throw new AssertionError(name);
            }
        });
        return out;
    }

    private static List<String> nginx(NginxFixture nginx, String path) {
        NginxFixture.Response r = nginx.get(path, Map.of());
        List<String> out = new ArrayList<>();
        for (String name : new String[] {"x-a", "x-b", "x-s", "x-o"}) {
            r.header(name).ifPresent(v -> out.add(name + ": " + v));
        }
        return out;
    }

    @Test
    void theSameFieldsOnTheSameAnswers() {
        StringBuilder conf = new StringBuilder("server {\n    listen 127.0.0.1:{{port}};\n    add_header X-S s;\n");
        for (int st : STATUSES) {
            String answer = st >= 301 && st <= 308 && st != 304 ? st + " /elsewhere" : st == 204 || st == 304 ? "" + st
                    : st + " \"x\"";
            conf.append("    location = /s").append(st).append(" { add_header X-A a; add_header X-B b always; return ")
                    .append(answer).append("; }\n");
        }
        conf.append("    location = /inherit { return 200 \"x\"; }\n");
        conf.append("    location = /inherit404 { return 404 \"x\"; }\n");
        conf.append("    location = /own { add_header X-O o; return 200 \"x\"; }\n");
        conf.append("}\n");

        Route statuses = Route.builder("statuses", UP)
                .addedHeaders(AddedHeaders.builder().add("X-A", "a", false).add("X-B", "b", true).build()).build();
        Route inherit = Route.builder("inherit", UP).build();
        Route own = Route.builder("own", UP).addedHeaders(AddedHeaders.builder().add("X-O", "o", false).build()).build();
        ProxyConfig config = ProxyConfig.builder().addedHeaders(AddedHeaders.builder().add("X-S", "s", false).build())
                .route(statuses).route(inherit).route(own).build();

        List<String> differ = new ArrayList<>();
        try (NginxFixture nginx = NginxFixture.start(conf.toString())) {
            for (int st : STATUSES) {
                List<String> theirs = nginx(nginx, "/s" + st);
                List<String> ours = lbkit(config, statuses, st);
                if (!theirs.equals(ours)) {
                    differ.add(st + ": nginx " + theirs + ", lbkit " + ours);
                }
            }
            assertEquals(nginx(nginx, "/inherit"), lbkit(config, inherit, 200), "the server's field, inherited");
            assertEquals(nginx(nginx, "/inherit404"), lbkit(config, inherit, 404), "not on a 404 without always");
            assertEquals(nginx(nginx, "/own"), lbkit(config, own, 200), "its own field only");
        }
        assertEquals(List.of(), differ);
    }
}

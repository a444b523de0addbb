package io.lbkit.servlet.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lbkit.proxy.contract.Http;
import io.lbkit.servlet.testing.TestContainer;
import jakarta.servlet.DispatcherType;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InstanceIdFilterIT {

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void everyResponseNamesTheInstance(TestContainer.Kind kind) {
        try (TestContainer c = TestContainer.start(kind, ctx -> {
            ctx.addFilter("fixed", new InstanceIdFilter("backend-2", null))
                    .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/fixed/*");
            ctx.addFilter("auto", new InstanceIdFilter(null, "X-Served-By"))
                    .addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/auto/*");
        })) {
            HttpResponse<String> fixed = Http.get(c.uri("/fixed/anything"));
            assertEquals(404, fixed.statusCode(), "the fallback's error response still carries it");
            assertEquals("backend-2", fixed.headers().firstValue("X-Instance-ID").orElse(null));
            String auto = Http.get(c.uri("/auto/x")).headers().firstValue("X-Served-By").orElse("");
            assertTrue(auto.endsWith(":" + c.port()), auto);
        }
        assertThrows(IllegalArgumentException.class, () -> new InstanceIdFilter("bad\nid", null));
        assertThrows(IllegalArgumentException.class, () -> new InstanceIdFilter("x", "bad header"));
    }
}

package io.lbkit.servlet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.EnumSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TestContainerTest {

    @ParameterizedTest
    @EnumSource(TestContainer.Kind.class)
    void filtersRunForUnmappedPathsAndFallbackAnswers404(TestContainer.Kind kind) throws Exception {
        Filter tag = (req, resp, chain) -> {
            ((jakarta.servlet.http.HttpServletResponse) resp).setHeader("X-Filtered", "yes");
            chain.doFilter(req, resp);
        };
        try (TestContainer c = TestContainer.start(kind, ctx -> {
            var f = ctx.addFilter("tag", tag);
            f.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        })) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(c.uri("/nothing/here")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, r.statusCode());
            assertEquals("yes", r.headers().firstValue("X-Filtered").orElse(null));
        }
    }
}

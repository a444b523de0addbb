package io.lbkit.spring;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.DefaultResourceLoader;

/** Starts Spring Boot apps on an embedded Tomcat on a free loopback port, and calls them over HTTP. */
final class BootApps {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private BootApps() {
    }

    /** Starts {@code sources} with {@code properties} ({@code name=value}) on a random port. */
    static ConfigurableApplicationContext start(List<Class<?>> sources, String... properties) {
        return start(null, sources, properties);
    }

    /** As {@link #start(List, String...)}, loading classes through {@code classLoader} when not null. */
    static ConfigurableApplicationContext start(ClassLoader classLoader, List<Class<?>> sources,
                                                String... properties) {
        List<String> props = new ArrayList<>(List.of("server.port=0", "server.address=127.0.0.1",
                "spring.main.banner-mode=off", "logging.level.root=WARN"));
        props.addAll(List.of(properties));
        SpringApplicationBuilder b = new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
                .properties(props.toArray(String[]::new));
        if (classLoader != null) {
            b.resourceLoader(new DefaultResourceLoader(classLoader));
        }
        return b.run();
    }

    /** The app's session store under the meters the starter wraps it in when the app has Micrometer. */
    static io.lbkit.session.SessionStore store(ConfigurableApplicationContext ctx) {
        io.lbkit.session.SessionStore s = ctx.getBean(io.lbkit.session.SessionStore.class);
        return s instanceof io.lbkit.session.MeteredSessionStore m ? m.delegate() : s;
    }

    static int port(ConfigurableApplicationContext ctx) {
        return ctx.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    }

    static HttpResponse<String> get(ConfigurableApplicationContext ctx, String path, Map<String, String> headers)
            throws IOException, InterruptedException {
        return send(ctx, "GET", path, headers, null);
    }

    static HttpResponse<String> send(ConfigurableApplicationContext ctx, String method, String path,
                                     Map<String, String> headers, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(ctx) + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(r::header);
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of cookie {@code name} in the response's Set-Cookie headers, or null. */
    static String cookie(HttpResponse<?> resp, String name) {
        for (String h : resp.headers().allValues("Set-Cookie")) {
            if (h.startsWith(name + "=")) {
                return h.substring(name.length() + 1, h.indexOf(';'));
            }
        }
        return null;
    }

    /** Every message of {@code e} and its causes, and their suppressed ones, joined by newlines. */
    static String messages(Throwable e) {
        List<String> out = new ArrayList<>();
        for (Throwable t = e; t != null; t = t.getCause()) {
            out.add(t.getClass().getName() + ": " + t.getMessage());
            for (Throwable s : t.getSuppressed()) {
                out.add(messages(s));
            }
        }
        return out.stream().collect(Collectors.joining("\n"));
    }
}

package io.lbkit.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rules never name a transport's type: no compiled class of lb-proxy refers to a servlet,
 * Jetty, Tomcat or Netty class (lb-health's HTTP client is on the classpath, so the compiler
 * alone would not stop one).
 */
class NoTransportTypesTest {

    private static final List<String> BANNED = List.of("jakarta/servlet/", "org/eclipse/jetty/", "org/apache/catalina/",
            "org/apache/tomcat/", "io/netty/", "org/redisson/");

    @Test
    void noCompiledClassRefersToATransport() throws IOException, URISyntaxException {
        Path classes = Path.of(ProxyConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Path> files;
        try (Stream<Path> s = Files.walk(classes)) {
            files = s.filter(f -> f.toString().endsWith(".class")).toList();
        }
        assertTrue(files.size() >= 5, "found the classes of lb-proxy in " + classes);
        for (Path f : files) {
            // class names in the constant pool are stored as modified UTF-8: ASCII here
            String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
            for (String banned : BANNED) {
                assertEquals(-1, text.indexOf(banned), f + " refers to " + banned);
            }
        }
    }
}

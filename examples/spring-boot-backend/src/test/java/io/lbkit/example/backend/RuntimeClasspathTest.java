package io.lbkit.example.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The app ships only what its features need: lbkit's backend side and the Redis store, Spring MVC
 * and Actuator; no proxy engine, no Jetty, no HTTP codec of Netty (Redisson's Netty is its Redis
 * client), no proxy-side configuration reader (lb-config and its YAML parser). Read from the runtime class path this build resolved (maven-dependency-plugin writes
 * it to target/runtime-classpath.txt).
 */
class RuntimeClasspathTest {

    private static Set<String> jars() throws Exception {
        String cp = Files.readString(Path.of("target/runtime-classpath.txt")).trim();
        Set<String> names = new TreeSet<>();
        for (String entry : cp.split(File.pathSeparator)) {
            String n = Path.of(entry).getFileName().toString();
            names.add(n.endsWith(".jar") ? n.replaceAll("-[0-9][^-]*(-SNAPSHOT|\\.Final)?\\.jar$", "") : n);
        }
        return names;
    }

    @Test
    void onlyTheChosenFeaturesDependencies() throws Exception {
        Set<String> jars = jars();
        for (String needed : List.of("lb-spring-boot-starter", "lb-servlet", "lb-session", "lb-session-redis", "redisson",
                "spring-webmvc", "spring-boot-actuator")) {
            assertTrue(jars.contains(needed), needed + " missing from " + jars);
        }
        List<String> unwanted = jars.stream().filter(j -> j.startsWith("jetty-") || j.equals("lb-netty")
                || j.equals("lb-server") || j.equals("netty-codec-http") || j.startsWith("spring-session")
                || j.equals("lb-proxy-contract") || j.equals("lb-testing") || j.equals("lb-config")
                || j.equals("jackson-dataformat-yaml")).toList();
        assertEquals(List.of(), unwanted, "a backend with sessions in Redis needs none of these");
        assertTrue(Arrays.stream(new String[] {"lb-core", "lb-health", "lb-proxy"}).allMatch(jars::contains),
                "lb-servlet's own modules: " + jars);
    }
}

package io.lbkit.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The Environment's {@code lbkit.*} properties as one tree, in the shapes Spring's sources give them. */
class PropertyTreeTest {

    private static StandardEnvironment env(Map<String, Object> props) {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().addFirst(new MapPropertySource("test", props));
        ConfigurationPropertySources.attach(env);
        return env;
    }

    @Test
    void indexedPropertiesBecomeListsInIndexOrderAndKeysStayAsWritten() {
        Map<String, Object> p = new LinkedHashMap<>();
        for (int i = 11; i >= 0; i--) {
            p.put("lbkit.upstreams.My-Api.endpoints[" + i + "]", "10.0.0." + i + ":80");
        }
        p.put("lbkit.routes[0].match.pathPrefix", "/api/");
        p.put("lbkit.routes[0].upstream", "My-Api");
        p.put("lbkit.session.store", "memory");
        ObjectNode tree = PropertyTree.read(env(p), LbkitProxyAutoConfiguration.STARTER_KEYS);
        assertEquals(12, tree.at("/upstreams/My-Api/endpoints").size());
        assertEquals("10.0.0.2:80", tree.at("/upstreams/My-Api/endpoints/2").asText());
        assertEquals("10.0.0.10:80", tree.at("/upstreams/My-Api/endpoints/10").asText());
        assertEquals("/api/", tree.at("/routes/0/match/pathPrefix").asText());
        assertFalse(tree.has("session"), "the starter's own properties are not the file's");
    }

    @Test
    void aPlaceholderIsResolvedAndTheWinningSourceGivesTheValue() {
        StandardEnvironment env = env(new LinkedHashMap<>(Map.of("lbkit.proxy.connect-timeout", "${timeout}",
                "timeout", "3s", "lbkit.proxy.read-timeout", "1s")));
        env.getPropertySources().addFirst(new MapPropertySource("override", Map.of("lbkit.proxy.read-timeout", "9s")));
        ObjectNode tree = PropertyTree.read(env, Set.of());
        assertEquals("3s", tree.at("/proxy/connect-timeout").asText());
        assertEquals("9s", tree.at("/proxy/read-timeout").asText());
        assertEquals(2, tree.get("proxy").size(), tree.toString());
    }

    @Test
    void environmentVariablesGiveLowercaseKeysAndIndexes() {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("LBKIT_UPSTREAMS_API_ENDPOINTS_0_", "10.0.0.1:80", "LBKIT_UPSTREAMS_API_ENDPOINTS_1_",
                                "10.0.0.2:80", "LBKIT_ROUTES_0_UPSTREAM", "api")));
        ConfigurationPropertySources.attach(env);
        ObjectNode tree = PropertyTree.read(env, Set.of());
        assertEquals("10.0.0.2:80", tree.at("/upstreams/api/endpoints/1").asText(), tree.toString());
        assertEquals("api", tree.at("/routes/0/upstream").asText(), tree.toString());
        assertTrue(PropertyTree.has(env, "upstreams"));
        assertFalse(PropertyTree.has(env, "trust"));
    }

    @Test
    void systemPropertiesAndTheEnvironmentGiveOnlyKeysOfTheVocabulary() {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().replace(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME,
                new MapPropertySource(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME,
                        Map.of("lbkit.contract.skip", "false", "lbkit.routes[0].upstream", "api")));
        env.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("LBKIT_ENGINES", "netty", "LBKIT_UPSTREAMS_API_ENDPOINTS_0_", "10.0.0.1:80")));
        env.getPropertySources().addFirst(new MapPropertySource("application", Map.of("lbkit.typo", "x")));
        ConfigurationPropertySources.attach(env);
        ObjectNode tree = PropertyTree.read(env, Set.of());
        assertEquals("api", tree.at("/routes/0/upstream").asText(), tree.toString());
        assertEquals("10.0.0.1:80", tree.at("/upstreams/api/endpoints/0").asText(), tree.toString());
        assertFalse(tree.has("contract") || tree.has("engines"), "a process-wide setting outside the vocabulary: " + tree);
        assertEquals("x", tree.at("/typo").asText(), "the app's own unknown key is kept, for start-up to refuse");
    }

    @Test
    void aValueThatIsAlsoAParentIsAnErrorNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PropertyTree.read(env(
                new LinkedHashMap<>(Map.of("lbkit.upstreams.api.endpoints", "10.0.0.1:80",
                        "lbkit.upstreams.api.endpoints[0]", "10.0.0.2:80"))), Set.of()));
        assertTrue(e.getMessage().contains("lbkit.upstreams.api.endpoints"), e.getMessage());
    }
}

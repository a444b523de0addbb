package io.lbkit.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The metadata IDEs read: every property generated, described, and in docs/spring-boot.md's table. */
class ConfigurationMetadataTest {

    @Test
    void everyPropertyIsDescribedAndDocumented() throws Exception {
        JsonNode metadata;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertNotNull(in, "spring-boot-configuration-processor generated no metadata");
            metadata = new ObjectMapper().readTree(in);
        }
        String docs = Files.readString(Path.of("..", "docs", "spring-boot.md"));
        List<String> names = new ArrayList<>();
        for (JsonNode p : metadata.get("properties")) {
            String name = p.get("name").asText();
            names.add(name);
            assertTrue(p.hasNonNull("description") && !p.get("description").asText().isBlank(),
                    name + " has no description (javadoc on its field)");
            assertTrue(docs.contains("| `" + name + "` |"), name + " is missing from docs/spring-boot.md's table");
        }
        assertTrue(names.contains("lbkit.session.idle-timeout") && names.contains("lbkit.instance-id.enabled"), names.toString());
        // the proxy side: serve's vocabulary as map- and list-typed entries, and the starter's own
        assertTrue(names.containsAll(List.of("lbkit.upstreams", "lbkit.routes", "lbkit.proxy", "lbkit.trust",
                "lbkit.sessions", "lbkit.proxy-filter.order", "management.health.lbkit-upstreams.enabled")), names.toString());
        assertEquals("lbkit.session.store", metadata.get("hints").get(0).get("name").asText());
    }
}

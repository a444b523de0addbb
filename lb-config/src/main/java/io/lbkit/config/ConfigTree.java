package io.lbkit.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the configuration vocabulary of {@code serve}'s file from a tree that did not come from a
 * file: nested maps and lists (what a framework's properties bind to) or a Jackson tree. The keys
 * and values mean what they mean in the file ({@code docs/configuration.md}) and are validated the
 * same way. Keys are matched relaxed: {@code connect-timeout}, {@code connect_timeout} and
 * {@code connecttimeout} all find {@code connectTimeout}; names the tree defines (upstreams,
 * headers, map values) are kept as written. Errors are {@link ConfigException}s whose
 * {@link ConfigException#path() path} is the place in the tree, as written
 * ({@code upstreams.api.endpoints[0]}).
 */
public final class ConfigTree {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private ConfigTree() {
    }

    /** The keys the vocabulary has at its top level ({@code upstreams}, {@code routes}, {@code proxy}...), as the file spells them. */
    public static java.util.List<String> topKeys() {
        return java.util.List.of(ConfigLoader.TOP_KEYS);
    }

    /**
     * Reads {@code tree}: maps, lists and scalar values (text, numbers, booleans).
     *
     * @param source names the tree in errors (e.g. {@code lbkit})
     */
    public static ServeConfig read(String source, Map<String, ?> tree) {
        return read(source, (JsonNode) MAPPER.valueToTree(Objects.requireNonNull(tree, "tree")));
    }

    /**
     * Reads a Jackson tree with relaxed keys.
     *
     * @param source names the tree in errors (e.g. {@code lbkit})
     */
    public static ServeConfig read(String source, JsonNode tree) {
        Objects.requireNonNull(source, "source");
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new ConfigException(source, "", "is empty");
        }
        return ConfigLoader.read(new Node(source, "", tree, System::getenv, true));
    }
}

package io.lbkit.spring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.config.ConfigTree;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.StandardEnvironment;

/**
 * The {@code lbkit.*} properties of the Environment as one tree, the shape of {@code serve}'s file:
 * {@code lbkit.upstreams.api.endpoints[0]} (a YAML list item, or an indexed property) becomes item 0
 * of the list {@code endpoints} of the mapping {@code api}. Keys are kept as written (lb-config
 * matches them relaxed); values are the Environment's, placeholders resolved, as text. A property
 * set in several sources takes the value of the one that wins in Spring (the first in order).
 */
final class PropertyTree {

    static final String PREFIX = "lbkit";
    private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of(PREFIX);

    private PropertyTree() {
    }

    /** True when some property source has a property under {@code lbkit.<key>}. */
    static boolean has(Environment env, String key) {
        ConfigurationPropertyName name = ConfigurationPropertyName.of(PREFIX + "." + key);
        for (ConfigurationPropertySource s : ConfigurationPropertySources.get(env)) {
            if (s.containsDescendantOf(name) == ConfigurationPropertyState.PRESENT) {
                return true;
            }
        }
        return false;
    }

    /**
     * The tree of every {@code lbkit.*} property whose first key is not in {@code skip}
     * (compared without case and dashes). From the JVM's system properties and the environment,
     * only keys of the vocabulary are read ({@link ConfigTree#topKeys()}): those sources carry the
     * settings of everything in the process (a build's {@code -Dlbkit.contract.skip}, say), while
     * an unknown key in the app's own configuration is a mistake start-up reports.
     *
     * @throws LbkitPropertyException when a property is both a value and a parent of others
     */
    static ObjectNode read(Environment env, Set<String> skip) {
        Set<String> skipUniform = new HashSet<>();
        skip.forEach(k -> skipUniform.add(uniform(k)));
        Set<String> vocabulary = new HashSet<>();
        ConfigTree.topKeys().forEach(k -> vocabulary.add(uniform(k)));
        Set<ConfigurationPropertyName> seen = new HashSet<>();
        List<ConfigurationPropertyName> names = new ArrayList<>();
        for (ConfigurationPropertySource s : ConfigurationPropertySources.get(env)) {
            if (s instanceof IterableConfigurationPropertySource it) {
                boolean process = isProcessWide(s);
                it.stream().filter(ROOT::isAncestorOf).forEach(n -> {
                    String first = uniform(n.getElement(1, Form.ORIGINAL));
                    if (!skipUniform.contains(first) && (!process || vocabulary.contains(first)) && seen.add(n)) {
                        names.add(n);
                    }
                });
            }
        }
        Binder binder = Binder.get(env);
        Map<String, Object> root = new LinkedHashMap<>();
        for (ConfigurationPropertyName n : names) {
            String value = binder.bind(n, Bindable.of(String.class)).orElse(null);
            if (value != null) {
                put(root, n, value);
            }
        }
        return (ObjectNode) toJson(root);
    }

    /** Whether {@code s} is the JVM's system properties or the process environment. */
    private static boolean isProcessWide(ConfigurationPropertySource s) {
        return s.getUnderlyingSource() instanceof org.springframework.core.env.PropertySource<?> p
                && (StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME.equals(p.getName())
                || StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME.equals(p.getName()));
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> root, ConfigurationPropertyName name, String value) {
        Object container = root;
        int last = name.getNumberOfElements() - 1;
        for (int i = 1; i <= last; i++) {
            Object key = name.isNumericIndex(i) ? (Object) Integer.valueOf(name.getElement(i, Form.ORIGINAL))
                    : name.getElement(i, Form.ORIGINAL);
            Object next;
            if (i == last) {
                next = value;
            } else {
                next = name.isNumericIndex(i + 1) ? new TreeMap<Integer, Object>() : new LinkedHashMap<String, Object>();
            }
            Object existing;
            if (container instanceof TreeMap<?, ?> list) {
                if (!(key instanceof Integer)) {
                    throw conflict(name, i);
                }
                existing = ((TreeMap<Integer, Object>) list).putIfAbsent((Integer) key, next);
            } else {
                if (key instanceof Integer) {
                    throw conflict(name, i);
                }
                existing = ((Map<String, Object>) container).putIfAbsent((String) key, next);
            }
            if (existing != null) {
                if (i == last || existing instanceof String || existing.getClass() != next.getClass()) {
                    throw conflict(name, i);
                }
                next = existing;
            }
            container = next;
        }
    }

    private static LbkitPropertyException conflict(ConfigurationPropertyName name, int upTo) {
        return new LbkitPropertyException(name.toString(), "cannot be read as one value: " + name.chop(upTo + 1)
                + " is set both as a value and as a list or mapping of values (or as both a list and a mapping)", null);
    }

    private static JsonNode toJson(Object o) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (o instanceof TreeMap<?, ?> list) {
            ArrayNode a = f.arrayNode();
            list.values().forEach(v -> a.add(toJson(v)));
            return a;
        }
        if (o instanceof Map<?, ?> map) {
            ObjectNode obj = f.objectNode();
            map.forEach((k, v) -> obj.set((String) k, toJson(v)));
            return obj;
        }
        return f.textNode((String) o);
    }

    static String uniform(String key) {
        return key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }
}

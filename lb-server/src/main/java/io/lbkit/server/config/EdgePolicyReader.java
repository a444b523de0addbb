package io.lbkit.server.config;

import io.lbkit.core.limit.CidrRules;
import io.lbkit.proxy.AddedHeaders;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the edge policy settings of a {@code serve} file, at the top level and in each route:
 *
 * <pre>{@code
 * securityHeaders: seed-004            # a named preset (add_header ... always, for each field)
 * headers:                             # add_header NAME VALUE [always]
 *   X-Served: edge                     #   without always: only on 200, 201, 204, 206, 301..304, 307, 308
 *   X-Policy: { value: strict, always: true }
 * access: [allow 10.0.0.0/8, allow 127.0.0.1, deny all]   # allow / deny, first match wins, 403
 * }</pre>
 *
 * A route with {@code headers} or {@code securityHeaders} of its own gets none of the top level's
 * (nginx's inheritance), and a route with {@code access} uses only its own rules.
 */
final class EdgePolicyReader {

    /** The keys this reader takes at the top level and in a route. */
    static final String[] KEYS = {"headers", "securityHeaders", "access"};

    private EdgePolicy.Level top = new EdgePolicy.Level(null, null);
    private final Map<String, EdgePolicy.Level> routes = new LinkedHashMap<>();

    /** {@code keys} and this reader's {@link #KEYS}, for {@code Node.allowOnly}. */
    static String[] with(String... keys) {
        String[] all = new String[keys.length + KEYS.length];
        System.arraycopy(keys, 0, all, 0, keys.length);
        System.arraycopy(KEYS, 0, all, keys.length, KEYS.length);
        return all;
    }

    void top(Node root) {
        top = level(root);
    }

    void route(String name, Node route) {
        EdgePolicy.Level l = level(route);
        if (l.headers() != null || l.access() != null) {
            routes.put(name, l);
        }
    }

    EdgePolicy build() {
        return top.headers() == null && top.access() == null && routes.isEmpty() ? EdgePolicy.NONE
                : new EdgePolicy(top, routes);
    }

    private static EdgePolicy.Level level(Node n) {
        return new EdgePolicy.Level(headers(n), access(n.get("access")));
    }

    private static AddedHeaders headers(Node n) {
        Node preset = n.get("securityHeaders");
        Node fields = n.get("headers");
        if (preset.isMissing() && fields.isMissing()) {
            return null;
        }
        AddedHeaders.Builder b = AddedHeaders.builder();
        if (!preset.isMissing()) {
            try {
                b.securityPreset(preset.requiredString().trim());
            } catch (IllegalArgumentException e) {
                throw preset.error("must be '" + AddedHeaders.SEED_004 + "', got '" + preset.string("") + "'");
            }
        }
        for (Map.Entry<String, Node> e : fields.entries().entrySet()) {
            Node v = e.getValue();
            String value;
            boolean always;
            if (v.isMapping()) {
                v.allowOnly("value", "always");
                value = v.get("value").requiredString();
                always = v.get("always").bool(false);
            } else {
                value = v.requiredString();
                always = false;
            }
            try {
                b.add(e.getKey(), value, always);
            } catch (IllegalArgumentException x) {
                throw v.error(x.getMessage());
            }
        }
        return b.build();
    }

    private static CidrRules access(Node n) {
        if (n.isMissing()) {
            return null;
        }
        StringBuilder rules = new StringBuilder();
        for (Node item : n.items()) {
            String rule = item.requiredString().trim();
            if (!rule.startsWith("allow ") && !rule.startsWith("deny ")) {
                throw item.error("must be 'allow CIDR|all' or 'deny CIDR|all', got '" + rule + "'");
            }
            try {
                CidrRules.parse(rule + ";");
            } catch (IllegalArgumentException e) {
                throw item.error(e.getMessage());
            }
            rules.append(rule).append(';');
        }
        if (rules.isEmpty()) {
            throw n.error("must list at least one rule");
        }
        return CidrRules.parse(rules.toString());
    }
}

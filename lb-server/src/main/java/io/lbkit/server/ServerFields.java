package io.lbkit.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lbkit.core.Endpoint;
import io.lbkit.core.EndpointState;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One upstream server's configuration as JSON, in the shape of nginx Plus's
 * {@code /api/N/http/upstreams/NAME/servers} ({@code id}, {@code server}, {@code weight},
 * {@code max_conns}, {@code max_fails}, {@code fail_timeout}, {@code backup}, {@code down},
 * {@code drain}) plus lbkit's {@code state} and {@code metadata}: what the admin API reads and
 * writes and the state file holds.
 */
final class ServerFields {

    static final Set<String> FIELDS = Set.of("id", "server", "weight", "max_conns", "max_fails", "fail_timeout",
            "backup", "down", "drain", "state", "metadata");

    private ServerFields() {
    }

    /** The server's configuration and administrative state. */
    static ObjectNode json(Endpoint e, EndpointState state) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("id", e.id());
        n.put("server", address(e));
        n.put("weight", e.weight());
        n.put("max_conns", e.maxConnections());
        n.put("max_fails", e.maxFails());
        n.put("fail_timeout", duration(e.failTimeout()));
        n.put("backup", e.backup());
        n.put("down", state == EndpointState.DOWN);
        n.put("drain", state == EndpointState.DRAINING);
        n.put("state", AdminState.name(state));
        if (!e.metadata().isEmpty()) {
            ObjectNode m = n.putObject("metadata");
            e.metadata().forEach(m::put);
        }
        return n;
    }

    static String address(Endpoint e) {
        return e.host().contains(":") ? "[" + e.host() + "]:" + e.port() : e.host() + ":" + e.port();
    }

    /**
     * Applies the fields of {@code body} to {@code base} (null: a new server, for which
     * {@code server} is required and {@code id} defaults to it).
     *
     * @throws IllegalArgumentException naming the field and the bad value
     */
    static Endpoint endpoint(JsonNode body, Endpoint base) {
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("unknown field '" + f + "' (known: " + new java.util.TreeSet<>(FIELDS) + ")");
            }
        }
        Endpoint.Builder b;
        JsonNode server = body.get("server");
        if (base == null) {
            if (server == null || !server.isTextual() || server.asText().isBlank()) {
                throw new IllegalArgumentException("server: is required (host:port)");
            }
            String id = text(body, "id", server.asText().trim());
            Endpoint a = address(server.asText().trim());
            b = Endpoint.builder(id).host(a.host()).port(a.port());
        } else {
            if (body.has("id") && !text(body, "id", base.id()).equals(base.id())) {
                throw new IllegalArgumentException("id: cannot change (it names the server), got '" + body.get("id").asText() + "'");
            }
            b = base.toBuilder();
            if (server != null) {
                if (!server.isTextual()) {
                    throw new IllegalArgumentException("server: must be host:port, got " + server);
                }
                Endpoint a = address(server.asText().trim());
                b.host(a.host()).port(a.port());
            }
        }
        if (body.has("weight")) {
            b.weight(integer(body, "weight", 1, 1_000_000));
        }
        if (body.has("max_conns")) {
            b.maxConnections(integer(body, "max_conns", 0, Integer.MAX_VALUE));
        }
        if (body.has("max_fails")) {
            b.maxFails(integer(body, "max_fails", 0, Integer.MAX_VALUE));
        }
        if (body.has("fail_timeout")) {
            b.failTimeout(parseDuration("fail_timeout", body.get("fail_timeout")));
        }
        if (body.has("backup")) {
            b.backup(bool(body, "backup"));
        }
        if (body.has("metadata")) {
            JsonNode m = body.get("metadata");
            if (!m.isObject()) {
                throw new IllegalArgumentException("metadata: must be an object of strings, got " + m);
            }
            Map<String, String> meta = new LinkedHashMap<>();
            m.fields().forEachRemaining(f -> meta.put(f.getKey(), f.getValue().asText()));
            b.metadata(meta);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("server: " + e.getMessage());
        }
    }

    /**
     * The administrative state {@code body} asks for: {@code state} (up, drain, down) or nginx's
     * {@code down} / {@code drain} booleans; {@code null} when it asks for none.
     */
    static EndpointState state(JsonNode body) {
        if (body.has("state")) {
            JsonNode s = body.get("state");
            EndpointState st = s.isTextual() ? AdminState.parse(s.asText()) : null;
            if (st == null) {
                throw new IllegalArgumentException("state: must be up, drain or down, got " + s);
            }
            return st;
        }
        boolean down = body.has("down") && bool(body, "down");
        boolean drain = body.has("drain") && bool(body, "drain");
        if (down && drain) {
            throw new IllegalArgumentException("down and drain: only one can be true");
        }
        if (down) {
            return EndpointState.DOWN;
        }
        if (drain) {
            return EndpointState.DRAINING;
        }
        return body.has("down") || body.has("drain") ? EndpointState.UP : null;
    }

    private static Endpoint address(String s) {
        Endpoint e;
        try {
            e = Endpoint.parse(s);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("server: " + ex.getMessage());
        }
        if (e.port() < 1 || e.port() > 65535) {
            throw new IllegalArgumentException("server: must be host:port with a port between 1 and 65535, got '" + s + "'");
        }
        return e;
    }

    private static String text(JsonNode body, String field, String dflt) {
        JsonNode n = body.get(field);
        if (n == null) {
            return dflt;
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException(field + ": must be a non-empty string, got " + n);
        }
        return n.asText().trim();
    }

    private static int integer(JsonNode body, String field, int min, int max) {
        JsonNode n = body.get(field);
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
            throw new IllegalArgumentException(field + ": must be an integer between " + min + " and " + max + ", got " + n);
        }
        return n.asInt();
    }

    private static boolean bool(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(field + ": must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    /** {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, or a number of seconds. */
    static Duration parseDuration(String field, JsonNode n) {
        if (n.isIntegralNumber() && n.asLong() >= 0) {
            return Duration.ofSeconds(n.asLong());
        }
        String s = n.isTextual() ? n.asText().trim() : "";
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(field + ": must be a duration like 10s or 500ms, got " + n);
        }
        long v = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(v);
            case "m" -> Duration.ofMinutes(v);
            case "h" -> Duration.ofHours(v);
            default -> Duration.ofSeconds(v);
        };
    }

    static String duration(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}

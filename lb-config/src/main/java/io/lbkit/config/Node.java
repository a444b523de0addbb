package io.lbkit.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A position in a parsed configuration tree that knows its path, so every error names the file
 * and the exact place. Typed getters convert nginx-style values (durations {@code 10s},
 * {@code 1m30s}, {@code 500ms}; sizes {@code 1m}, {@code 512k}) and reject what does not fit.
 * {@link #allowOnly} rejects unknown keys (a typo must not be silently ignored). A relaxed node
 * (a tree from Spring properties) also finds a key written in another case or with dashes or
 * underscores ({@code connect-timeout}, {@code CONNECT_TIMEOUT} for {@code connectTimeout}), and
 * names it in errors as written.
 */
final class Node {

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d|w)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)([kKmMgG]?)");
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private final String file;
    private final String path;
    private final JsonNode value;
    private final Function<String, String> env;
    private final boolean relaxed;

    Node(String file, String path, JsonNode value, Function<String, String> env) {
        this(file, path, value, env, false);
    }

    Node(String file, String path, JsonNode value, Function<String, String> env, boolean relaxed) {
        this.file = file;
        this.path = path;
        this.value = value;
        this.env = env;
        this.relaxed = relaxed;
    }

    String path() {
        return path;
    }

    String file() {
        return file;
    }

    ConfigException error(String problem) {
        return new ConfigException(file, path, problem);
    }

    boolean isMissing() {
        return value == null || value.isMissingNode() || value.isNull();
    }

    boolean isMapping() {
        return value != null && value.isObject();
    }

    Node get(String key) {
        requireObject();
        if (relaxed && !isMissing() && value.get(key) == null) {
            for (Iterator<String> it = value.fieldNames(); it.hasNext(); ) {
                String written = it.next();
                if (uniform(written).equals(uniform(key))) {
                    key = written;
                    break;
                }
            }
        }
        return new Node(file, path.isEmpty() ? key : path + "." + key, isMissing() ? null : value.get(key), env, relaxed);
    }

    /** A key without case, dashes and underscores (Spring's relaxed names). */
    private static String uniform(String key) {
        return key.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }

    boolean has(String key) {
        return !get(key).isMissing();
    }

    void requireObject() {
        if (value != null && !value.isMissingNode() && !value.isNull() && !value.isObject()) {
            throw error("must be a mapping, got " + describe());
        }
    }

    void allowOnly(String... keys) {
        if (isMissing()) {
            return;
        }
        requireObject();
        Set<String> allowed = Set.of(keys);
        Set<String> uniform = new java.util.HashSet<>();
        for (String k : keys) {
            uniform.add(uniform(k));
        }
        for (Iterator<String> it = value.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (relaxed ? !uniform.contains(uniform(k)) : !allowed.contains(k)) {
                throw new ConfigException(file, path.isEmpty() ? k : path + "." + k,
                        "unknown setting (expected one of " + new TreeSet<>(allowed) + ")");
            }
        }
    }

    /** Entries of a mapping, in file order. */
    Map<String, Node> entries() {
        Map<String, Node> out = new LinkedHashMap<>();
        if (isMissing()) {
            return out;
        }
        requireObject();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), new Node(file, path.isEmpty() ? e.getKey() : path + "." + e.getKey(), e.getValue(), env,
                    relaxed));
        }
        return out;
    }

    /** Items of a list; a single scalar counts as a one-item list. */
    List<Node> items() {
        List<Node> out = new ArrayList<>();
        if (isMissing()) {
            return out;
        }
        if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                out.add(new Node(file, path + "[" + i + "]", value.get(i), env, relaxed));
            }
        } else if (value.isValueNode()) {
            out.add(this);
        } else {
            throw error("must be a list, got " + describe());
        }
        return out;
    }

    String string(String dflt) {
        if (isMissing()) {
            return dflt;
        }
        if (!value.isValueNode()) {
            throw error("must be a text value, got " + describe());
        }
        return substitute(value.asText());
    }

    String requiredString() {
        String s = string(null);
        if (s == null || s.isBlank()) {
            throw error("is required");
        }
        return s;
    }

    List<String> strings() {
        List<String> out = new ArrayList<>();
        for (Node n : items()) {
            out.add(n.requiredString());
        }
        return out;
    }

    int integer(int dflt, int min, int max) {
        if (isMissing()) {
            return dflt;
        }
        long v;
        if (value.isIntegralNumber()) {
            v = value.asLong();
        } else if (value.isTextual() && substitute(value.asText()).trim().matches("-?\\d{1,18}")) {
            v = Long.parseLong(substitute(value.asText()).trim());
        } else {
            throw error("must be a whole number, got " + describe());
        }
        if (v < min || v > max) {
            throw error("must be " + range(min, max) + ", got " + v);
        }
        return (int) v;
    }

    boolean bool(boolean dflt) {
        if (isMissing()) {
            return dflt;
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        String s = value.isTextual() ? substitute(value.asText()).trim().toLowerCase(Locale.ROOT) : "";
        return switch (s) {
            case "true", "on", "yes" -> true;
            case "false", "off", "no" -> false;
            default -> throw error("must be true or false, got " + describe());
        };
    }

    /** nginx time syntax ({@code 500ms}, {@code 10s}, {@code 1m30s}, {@code 1h}); a bare number is seconds. */
    Duration duration(Duration dflt) {
        if (isMissing()) {
            return dflt;
        }
        String s = value.isNumber() ? value.asText() : string(null).trim();
        if (s.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(s));
        }
        Matcher m = DURATION_PART.matcher(s);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            });
            end = m.end();
        }
        if (end == 0 || end != s.length()) {
            throw error("must be a duration like 500ms, 10s, 1m30s or 1h, got " + describe());
        }
        return total;
    }

    Duration positiveDuration(Duration dflt) {
        Duration d = duration(dflt);
        if (d != null && (d.isZero() || d.isNegative())) {
            throw error("must be greater than 0, got " + describe());
        }
        return d;
    }

    /** nginx size syntax: bytes, or with k, m or g (1024-based). */
    long size(long dflt) {
        if (isMissing()) {
            return dflt;
        }
        String s = value.isNumber() ? value.asText() : string(null).trim();
        Matcher m = SIZE.matcher(s);
        if (!m.matches() || m.group(1).length() > 15) {
            throw error("must be a size like 8192, 512k, 10m or 1g, got " + describe());
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            default -> n;
        };
    }

    <E extends Enum<E>> E choice(Class<E> type, E dflt) {
        if (isMissing()) {
            return dflt;
        }
        String s = string(null).trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(s)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw error("must be one of " + names + ", got " + describe());
    }

    String describe() {
        if (value == null || value.isMissingNode()) {
            return "nothing";
        }
        if (value.isObject()) {
            return "a mapping";
        }
        if (value.isArray()) {
            return "a list";
        }
        String t = value.asText();
        return "'" + (t.length() > 60 ? t.substring(0, 60) + "..." : t) + "'";
    }

    /** Replaces {@code ${NAME}} and {@code ${NAME:-default}} with environment values. */
    private String substitute(String text) {
        if (text.indexOf("${") < 0) {
            return text;
        }
        Matcher m = ENV.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = env.apply(m.group(1));
            if (v == null) {
                v = m.group(2);
            }
            if (v == null) {
                throw error("environment variable " + m.group(1) + " is not set");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static String range(int min, int max) {
        if (max == Integer.MAX_VALUE) {
            return ">= " + min;
        }
        return "between " + min + " and " + max;
    }
}

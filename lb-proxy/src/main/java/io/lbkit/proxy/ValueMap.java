package io.lbkit.proxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * nginx's {@code map}: a value computed from a request value through a table of exact strings and
 * regular expressions, else a default. Immutable and thread-safe; built with {@link #builder}.
 *
 * <pre>{@code
 * // nginx (seed 004): map $http_x_api_key $rate_limit_tier {
 * //     "premium-key-123" "premium"; "business-key-456" "business"; default "free"; }
 * ValueMap tier = ValueMap.builder(RequestValue.header("X-Api-Key"))
 *         .entry("premium-key-123", "premium")
 *         .entry("business-key-456", "business")
 *         .defaultValue("free")
 *         .build();
 * }</pre>
 *
 * <p>Matching is nginx's (checked against nginx 1.22): exact strings first, compared ignoring
 * ASCII case; then the regular expressions in the order given, the first that matches anywhere in
 * the value wins ({@code ~} case-sensitive, {@code ~*} ignoring case; Java's regex syntax, which
 * agrees with PCRE for the usual patterns); else the default (the empty string unless set). A
 * missing request value is the empty string, which an entry {@code ""} can match. Values are
 * fixed text (nginx's values may contain variables; these do not).
 */
public final class ValueMap {

    private final RequestValue source;
    private final String defaultValue;
    // exact keys in lower case, open addressing
    private final String[] keys;
    private final String[] values;
    private final int mask;
    private final Pattern[] regexes;
    private final String[] regexValues;
    private final int size;

    private ValueMap(Builder b) {
        this.source = b.source;
        this.defaultValue = b.defaultValue;
        int cap = Integer.highestOneBit(Math.max(4, b.exact.size() * 2)) * 2;
        this.keys = new String[cap];
        this.values = new String[cap];
        this.mask = cap - 1;
        for (Map.Entry<String, String> e : b.exact.entrySet()) {
            int i = hash(e.getKey()) & mask;
            while (keys[i] != null) {
                i = (i + 1) & mask;
            }
            keys[i] = e.getKey();
            values[i] = e.getValue();
        }
        this.regexes = b.regexes.toArray(new Pattern[0]);
        this.regexValues = b.regexValues.toArray(new String[0]);
        this.size = b.exact.size() + regexes.length;
    }

    /** A builder for a map of the request value {@code source} (not one read from the body). */
    public static Builder builder(RequestValue source) {
        return new Builder(source);
    }

    /** The request value this map reads. */
    public RequestValue source() {
        return source;
    }

    /** The value when nothing matches. */
    public String defaultValue() {
        return defaultValue;
    }

    /** The number of entries (exact and regular expressions). */
    public int size() {
        return size;
    }

    /** The value for {@code input} (null: the empty string). */
    public String lookup(CharSequence input) {
        CharSequence in = input == null ? "" : input;
        int i = hash(in) & mask;
        for (String k; (k = keys[i]) != null; i = (i + 1) & mask) {
            if (equalsLower(k, in)) {
                return values[i];
            }
        }
        for (int r = 0; r < regexes.length; r++) {
            if (regexes[r].matcher(in).find()) {
                return regexValues[r];
            }
        }
        return defaultValue;
    }

    @Override
    public String toString() {
        return "ValueMap[" + source + ", " + size + " entries, default '" + defaultValue + "']";
    }

    private static int hash(CharSequence s) {
        int h = 0;
        for (int i = 0; i < s.length(); i++) {
            h = 31 * h + lower(s.charAt(i));
        }
        return h ^ (h >>> 16);
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }

    private static boolean equalsLower(String lowerKey, CharSequence s) {
        if (lowerKey.length() != s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (lowerKey.charAt(i) != lower(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** Builder for {@link ValueMap}; each call validates its arguments. */
    public static final class Builder {
        private final RequestValue source;
        private String defaultValue = "";
        private final Map<String, String> exact = new LinkedHashMap<>();
        private final List<Pattern> regexes = new ArrayList<>();
        private final List<String> regexValues = new ArrayList<>();

        private Builder(RequestValue source) {
            this.source = Objects.requireNonNull(source, "source");
            if (source.needsBody()) {
                throw new IllegalArgumentException("map source cannot read the request body, got " + source);
            }
        }

        /**
         * An nginx map line: {@code key} is an exact string, or {@code ~regex} / {@code ~*regex};
         * {@code \~} at the start stands for a literal {@code ~} (nginx's escape). A later exact
         * entry for the same string (any case) replaces the earlier one.
         */
        public Builder entry(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (key.startsWith("~")) {
                boolean icase = key.startsWith("~*");
                String re = key.substring(icase ? 2 : 1);
                try {
                    regexes.add(Pattern.compile(re, icase ? Pattern.CASE_INSENSITIVE : 0));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("map entry '" + key + "': bad regular expression: "
                            + e.getDescription());
                }
                regexValues.add(value);
            } else {
                String k = key.startsWith("\\~") ? key.substring(1) : key;
                exact.put(lowerAscii(k), value);
            }
            return this;
        }

        /** The value when nothing matches (nginx {@code default}); the empty string unless set. */
        public Builder defaultValue(String value) {
            this.defaultValue = Objects.requireNonNull(value, "defaultValue");
            return this;
        }

        public ValueMap build() {
            return new ValueMap(this);
        }

        private static String lowerAscii(String s) {
            StringBuilder sb = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                sb.append(lower(s.charAt(i)));
            }
            return sb.toString();
        }
    }
}

package io.lbkit.core.split;

import io.lbkit.core.internal.Utf8;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Splits keys into parts by percentage, exactly as nginx's {@code split_clients}
 * (ngx_http_split_clients_module): the same configuration and key give the same part as a real
 * nginx.
 *
 * <pre>{@code
 * // nginx: split_clients "${remote_addr}AAA" $variant { 0.5% .one; 2.0% .two; * ""; }
 * TrafficSplit<String> split = TrafficSplit.<String>builder()
 *         .part("0.5%", ".one").part("2.0%", ".two").rest("")
 *         .build();
 * String variant = split.select(remoteAddr + "AAA").orElseThrow();
 * }</pre>
 *
 * <h2>Algorithm</h2>
 * <ol>
 *   <li>Percentages have at most two decimals and are kept as hundredths of a percent
 *       ({@code 12.5%} is 1250). Each part's cut point is the running sum of
 *       {@code hundredths * 0xffffffff / 10000}, each term truncated on its own (so it may end a
 *       little below the truncation of the cumulative percentage, as in nginx).</li>
 *   <li>The key's bytes (a {@link CharSequence} is taken as UTF-8) are hashed with nginx's
 *       MurmurHash2 ({@link #murmurHash2(byte[], int, int)}), an unsigned 32-bit value.</li>
 *   <li>The first part whose cut point is greater than the hash wins; {@code *}
 *       ({@link Builder#rest(Object)}) matches any hash.</li>
 *   <li>If no part matches, the key belongs to no part: nginx sets the variable to the empty
 *       string; here {@link #select(byte[])} returns {@link Optional#empty()}. This happens when the
 *       percentages add up to less than 100% and there is no {@code *}, and also, for a handful of
 *       hash values at the very top of the range, when they add up to exactly 100% (the truncated
 *       cut points end just short of {@code 0xffffffff}); add a {@code *} part to cover every key.</li>
 * </ol>
 *
 * <p>Instances are immutable and thread-safe; selecting allocates nothing (the {@code Optional}s
 * are made at build time).
 *
 * @param <T> what a part selects, e.g. a variant name or an upstream
 */
public final class TrafficSplit<T> {

    private static final int M = 0x5bd1e995;

    /** Cut points as unsigned 32-bit values in longs; 0 marks {@code *}. */
    private final long[] cuts;
    private final List<T> values;
    private final List<String> percents;
    private final Optional<T>[] results;

    @SuppressWarnings({"unchecked", "rawtypes"})
    private TrafficSplit(Builder<T> b) {
        int n = b.values.size();
        this.cuts = new long[n];
        this.values = Collections.unmodifiableList(new ArrayList<>(b.values));
        this.percents = Collections.unmodifiableList(new ArrayList<>(b.percents));
        this.results = new Optional[n];
        long last = 0;
        for (int i = 0; i < n; i++) {
            int hundredths = b.hundredths.get(i);
            if (hundredths == 0) {
                cuts[i] = 0;
            } else {
                // ngx_conf_split_clients_block: last += percent * (uint64_t) 0xffffffff / 10000
                last += hundredths * 0xffffffffL / 10000;
                cuts[i] = last;
            }
            results[i] = Optional.of(b.values.get(i));
        }
    }

    /** A new builder. Add parts in order with {@link Builder#part(String, Object)}. */
    public static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /** The part for the key's bytes, or empty if the key falls into no part. */
    public Optional<T> select(byte[] key) {
        return select(key, 0, key.length);
    }

    /** The part for {@code key[off, off+len)}, or empty if it falls into no part. */
    public Optional<T> select(byte[] key, int off, int len) {
        int i = indexForHash(murmurHash2(key, off, len));
        return i < 0 ? Optional.empty() : results[i];
    }

    /** The part for the UTF-8 bytes of {@code key}, or empty if it falls into no part. */
    public Optional<T> select(CharSequence key) {
        int i = indexForHash(murmurHash2(key));
        return i < 0 ? Optional.empty() : results[i];
    }

    /** The part for {@code key}, or {@code fallback} if it falls into no part. */
    public T selectOrElse(CharSequence key, T fallback) {
        int i = indexForHash(murmurHash2(key));
        return i < 0 ? fallback : values.get(i);
    }

    /** The position of the key's part in the order given, or -1 if it falls into no part. */
    public int partIndex(byte[] key) {
        return indexForHash(murmurHash2(key, 0, key.length));
    }

    /** The position of the part for a MurmurHash2 value, or -1: nginx's lookup loop. */
    int indexForHash(int hash) {
        long h = hash & 0xffffffffL;
        for (int i = 0; i < cuts.length; i++) {
            long cut = cuts[i];
            if (h < cut || cut == 0) {
                return i;
            }
        }
        return -1;
    }

    /** Test hook: the cut points (0 for {@code *}). */
    long[] cutPoints() {
        return cuts.clone();
    }

    /** The parts' values, in order. */
    public List<T> values() {
        return values;
    }

    /** The parts' percentages as given ({@code "12.5%"}, or {@code "*"} for the rest), in order. */
    public List<String> percents() {
        return percents;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("TrafficSplit{");
        for (int i = 0; i < cuts.length; i++) {
            sb.append(' ').append(percents.get(i)).append(' ').append(values.get(i)).append(';');
        }
        return sb.append(" }").toString();
    }

    /**
     * nginx's {@code ngx_murmur_hash2}: 32-bit MurmurHash2 with seed 0 (the length is mixed into
     * the initial value), bytes read little-endian in blocks of four. Returns the unsigned 32-bit
     * hash as an {@code int} (use {@link Integer#toUnsignedLong(int)} to compare).
     */
    public static int murmurHash2(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        int h = len;
        int i = off;
        int end = off + len;
        while (end - i >= 4) {
            int k = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16
                    | (data[i + 3] & 0xff) << 24;
            k *= M;
            k ^= k >>> 24;
            k *= M;
            h *= M;
            h ^= k;
            i += 4;
        }
        int rest = end - i; // nginx: switch (len) { case 3: ... case 2: ... case 1: ... }
        if (rest > 0) {
            if (rest == 3) {
                h ^= (data[i + 2] & 0xff) << 16;
            }
            if (rest >= 2) {
                h ^= (data[i + 1] & 0xff) << 8;
            }
            h ^= data[i] & 0xff;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }

    /**
     * {@link #murmurHash2(byte[], int, int)} of the UTF-8 encoding of {@code s}, computed without
     * allocating. Unpaired surrogates are encoded as {@code '?'}, as {@link String#getBytes} does.
     */
    public static int murmurHash2(CharSequence s) {
        int n = s.length();
        int h = Utf8.length(s);
        int k = 0;
        int shift = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            int bytes;
            int count;
            if (c < 0x80) {
                bytes = c;
                count = 1;
            } else if (c < 0x800) {
                bytes = (0xc0 | c >> 6) | (0x80 | c & 0x3f) << 8;
                count = 2;
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    bytes = (0xf0 | cp >> 18) | (0x80 | cp >> 12 & 0x3f) << 8
                            | (0x80 | cp >> 6 & 0x3f) << 16 | (0x80 | cp & 0x3f) << 24;
                    count = 4;
                } else {
                    bytes = '?';
                    count = 1;
                }
            } else {
                bytes = (0xe0 | c >> 12) | (0x80 | c >> 6 & 0x3f) << 8 | (0x80 | c & 0x3f) << 16;
                count = 3;
            }
            for (int j = 0; j < count; j++) {
                k |= (bytes >>> (8 * j) & 0xff) << shift;
                shift += 8;
                if (shift == 32) {
                    k *= M;
                    k ^= k >>> 24;
                    k *= M;
                    h *= M;
                    h ^= k;
                    k = 0;
                    shift = 0;
                }
            }
        }
        if (shift != 0) {
            h ^= k;
            h *= M;
        }
        h ^= h >>> 13;
        h *= M;
        h ^= h >>> 15;
        return h;
    }

    /**
     * Parses nginx's percentage form into hundredths of a percent: digits with at most one
     * {@code .} and at most two decimals, then {@code %}; {@code 12.5%} is 1250, {@code 0.01%} is
     * 1. Package-private for tests.
     *
     * @throws IllegalArgumentException {@code bad percent '<text>': <reason>}
     */
    static int parsePercent(String text) {
        Objects.requireNonNull(text, "percent must not be null");
        if (text.length() < 2 || text.charAt(text.length() - 1) != '%') {
            throw badPercent(text, "expected a percentage like '12.5%'");
        }
        // ngx_atofp(value, len - 1, 2)
        int point = 2;
        boolean dot = false;
        long value = 0;
        int end = text.length() - 1;
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (point == 0) {
                throw badPercent(text, "at most 2 decimals are allowed");
            }
            if (c == '.') {
                if (dot) {
                    throw badPercent(text, "expected a percentage like '12.5%'");
                }
                dot = true;
                continue;
            }
            if (c < '0' || c > '9') {
                throw badPercent(text, "expected a percentage like '12.5%'");
            }
            value = value * 10 + (c - '0');
            if (value > 1_000_000) {
                throw badPercent(text, "percent must be in 0.01%..100%");
            }
            if (dot) {
                point--;
            }
        }
        while (point-- > 0) {
            value *= 10;
        }
        if (value == 0) {
            throw badPercent(text, "percent must be > 0");
        }
        if (value > 10000) {
            throw badPercent(text, "percent must be in 0.01%..100%");
        }
        return (int) value;
    }

    private static IllegalArgumentException badPercent(String text, String reason) {
        return new IllegalArgumentException("bad percent '" + text + "': " + reason);
    }

    /**
     * Collects the parts of a {@link TrafficSplit} in order. Every method validates at once;
     * {@link #build()} checks that there is at least one part.
     *
     * @param <T> what a part selects
     */
    public static final class Builder<T> {
        private final List<Integer> hundredths = new ArrayList<>();
        private final List<T> values = new ArrayList<>();
        private final List<String> percents = new ArrayList<>();
        private int sum;
        private boolean rest;

        private Builder() {
        }

        /**
         * Appends a part taking {@code percent} of the keys, e.g. {@code "12.5%"} or
         * {@code "0.01%"} (at most two decimals, &gt; 0). The running total must not exceed 100%.
         *
         * @throws IllegalArgumentException for a malformed percentage, a total above 100%, a part
         *         after {@link #rest(Object)}, or a null value
         */
        public Builder<T> part(String percent, T value) {
            int p = parsePercent(percent);
            Objects.requireNonNull(value, "value must not be null");
            if (rest) {
                throw new IllegalArgumentException("part '" + percent + "' comes after the rest part ('*'), "
                        + "which must be last");
            }
            if (sum + p > 10000) {
                throw new IllegalArgumentException("percent total must be <= 100%, got "
                        + formatHundredths(sum + p) + " at part '" + percent + "'");
            }
            sum += p;
            hundredths.add(p);
            values.add(value);
            percents.add(percent);
            return this;
        }

        /**
         * Appends nginx's {@code *} part: every key not taken by an earlier part. Must be last.
         *
         * @throws IllegalArgumentException if a rest part was already added, or value is null
         */
        public Builder<T> rest(T value) {
            Objects.requireNonNull(value, "value must not be null");
            if (rest) {
                throw new IllegalArgumentException("rest part ('*') is already set; it must appear once, last");
            }
            rest = true;
            hundredths.add(0);
            values.add(value);
            percents.add("*");
            return this;
        }

        /** Builds the split. @throws IllegalArgumentException if no part was added */
        public TrafficSplit<T> build() {
            if (values.isEmpty()) {
                throw new IllegalArgumentException("parts must not be empty, got 0 parts");
            }
            return new TrafficSplit<>(this);
        }

        private static String formatHundredths(int h) {
            return h / 100 + "." + (h % 100 < 10 ? "0" : "") + h % 100 + "%";
        }
    }
}

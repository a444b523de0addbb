package io.lbkit.core.limit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * nginx's {@code geo}: a value for a client address from a table of CIDR networks, the longest
 * matching prefix winning, else the default (the empty string unless set). Immutable and
 * thread-safe; built with {@link #builder()} or loaded from a file of {@code CIDR value} lines.
 *
 * <pre>{@code
 * // nginx: geo $allowed_country { default no; 10.0.0.0/8 yes; 10.1.0.0/16 no; }
 * GeoTable geo = GeoTable.builder().defaultValue("no").add("10.0.0.0/8", "yes").add("10.1.0.0/16", "no").build();
 * geo.lookup(new byte[] {10, 1, 2, 3});   // "no": the /16 is longer than the /8
 * }</pre>
 *
 * <p>The networks are flattened at build time into sorted, non-overlapping ranges (one array per
 * address family), so a lookup is a binary search over primitive arrays: no allocation, no lock.
 * For IPv4 an index of the 65 536 {@code /16} blocks narrows the search to the ranges of the
 * address's block (a few, for a table of 100 000 networks); for IPv6 an index of 65 536 equal
 * blocks of the span the table covers does the same. An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) is looked
 * up as IPv4, as nginx does. A network given twice keeps the last value (nginx warns "duplicate
 * network"); address bits beyond the prefix are ignored with a warning (nginx: "low address bits
 * ... are meaningless").
 */
public final class GeoTable {

    private static final Logger log = LoggerFactory.getLogger(GeoTable.class);

    private final String defaultValue;
    private final int size;
    // IPv4: range starts (as unsigned ints in longs) and the value of each range
    private final long[] v4Start;
    private final String[] v4Value;
    // for each /16 block, the range covering its first address: a lookup searches only its block
    private final int[] v4Block;
    // IPv6: range starts as two unsigned longs and the value of each range
    private final long[] v6Hi;
    private final long[] v6Lo;
    private final String[] v6Value;
    // the same index over 65 536 blocks of the span the IPv6 range starts cover
    private final long v6Base;
    private final int v6Shift;
    private final int[] v6Block;

    private GeoTable(Builder b) {
        this.defaultValue = b.defaultValue;
        this.size = b.v4.size() + b.v6.size();
        Ranges r4 = flatten(b.v4.values(), b.defaultValue, true);
        v4Start = r4.lo;
        v4Value = r4.values;
        v4Block = new int[(1 << 16) + 1];
        int r = 0;
        for (int k = 0; k < (1 << 16); k++) {
            long first = (long) k << 16;
            while (r + 1 < v4Start.length && v4Start[r + 1] <= first) {
                r++;
            }
            v4Block[k] = r;
        }
        v4Block[1 << 16] = v4Start.length - 1;
        Ranges r6 = flatten(b.v6.values(), b.defaultValue, false);
        v6Hi = r6.hi;
        v6Lo = r6.lo;
        v6Value = r6.values;
        int n6 = v6Hi.length;
        v6Base = n6 > 1 ? v6Hi[1] : 0;
        long span = n6 > 1 ? v6Hi[n6 - 1] - v6Base : 0;
        v6Shift = Math.max(0, 64 - Long.numberOfLeadingZeros(span) - 16);
        v6Block = new int[(1 << 16) + 1];
        int r6i = 0;
        for (int k = 0; k < (1 << 16); k++) {
            long first = v6Base + ((long) k << v6Shift);
            boolean wrapped = k > 0 && Long.compareUnsigned(first, v6Base) < 0;
            while (!wrapped && r6i + 1 < n6 && Long.compareUnsigned(v6Hi[r6i + 1], first) <= 0
                    && (v6Hi[r6i + 1] != first || v6Lo[r6i + 1] == 0)) {
                r6i++;
            }
            v6Block[k] = wrapped ? n6 - 1 : r6i;
        }
        v6Block[1 << 16] = n6 - 1;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Loads a table from a file of lines {@code CIDR VALUE} (an optional {@code ;} at the end, as
     * in an nginx {@code include}d geo file), {@code default VALUE}, blank lines and {@code #}
     * comments. A bad line fails the load with its number: {@code geo.txt:12: bad CIDR '...'}.
     */
    public static GeoTable load(Path file) {
        Builder b = builder();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                try {
                    b.line(line);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file.getFileName() + ":" + n + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read geo table " + file, e);
        }
        return b.build();
    }

    /** The value for a 4- or 16-byte address (network order). */
    public String lookup(byte[] address) {
        if (address.length == 4) {
            return v4(((address[0] & 0xffL) << 24) | ((address[1] & 0xffL) << 16) | ((address[2] & 0xffL) << 8)
                    | (address[3] & 0xffL));
        }
        if (address.length != 16) {
            throw new IllegalArgumentException("address must be 4 or 16 bytes, got " + address.length);
        }
        long hi = bytes(address, 0);
        long lo = bytes(address, 8);
        if (hi == 0 && (lo >>> 32) == 0xffffL) {
            return v4(lo & 0xffffffffL); // IPv4-mapped
        }
        int lowIdx;
        int high;
        if (Long.compareUnsigned(hi, v6Base) < 0) {
            lowIdx = 0;
            high = v6Hi.length > 1 ? 1 : 0;
        } else {
            long b = (hi - v6Base) >>> v6Shift;
            int block = b >= (1 << 16) ? 1 << 16 : (int) b;
            lowIdx = v6Block[block];
            high = block == 1 << 16 ? v6Hi.length - 1 : v6Block[block + 1];
        }
        while (lowIdx < high) {
            int mid = (lowIdx + high + 1) >>> 1;
            int c = Long.compareUnsigned(v6Hi[mid], hi);
            if (c < 0 || (c == 0 && Long.compareUnsigned(v6Lo[mid], lo) <= 0)) {
                lowIdx = mid;
            } else {
                high = mid - 1;
            }
        }
        return v6Value[lowIdx];
    }

    private String v4(long a) {
        long[] s = v4Start;
        int block = (int) (a >>> 16);
        int low = v4Block[block];
        int high = v4Block[block + 1];
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            if (s[mid] <= a) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return v4Value[low];
    }

    /** The value when no network matches. */
    public String defaultValue() {
        return defaultValue;
    }

    /** The number of networks in the table. */
    public int size() {
        return size;
    }

    @Override
    public String toString() {
        return "GeoTable[" + size + " networks, default '" + defaultValue + "']";
    }

    private static long bytes(byte[] a, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (a[off + i] & 0xffL);
        }
        return v;
    }

    // =====================================================================================
    // flattening: nested networks into sorted, non-overlapping ranges
    // =====================================================================================

    /** A network: its first and last address (128 bits as hi/lo; IPv4 in lo), prefix length, value. */
    private record Net(long hi, long lo, long endHi, long endLo, int prefix, String value) {
    }

    private record Ranges(long[] hi, long[] lo, String[] values) {
    }

    private static final Comparator<Net> ORDER = (a, b) -> {
        int c = Long.compareUnsigned(a.hi, b.hi);
        if (c == 0) {
            c = Long.compareUnsigned(a.lo, b.lo);
        }
        return c != 0 ? c : Integer.compare(a.prefix, b.prefix); // the wider first
    };

    /**
     * Networks are nested or disjoint, never partly overlapping: sorted by start (the wider first),
     * a stack of the enclosing networks gives, at each boundary, the value of the innermost one.
     */
    private static Ranges flatten(java.util.Collection<Net> nets, String dflt, boolean v4) {
        Net[] sorted = nets.toArray(new Net[0]);
        Arrays.sort(sorted, ORDER);
        long[] hi = new long[2 * sorted.length + 1];
        long[] lo = new long[2 * sorted.length + 1];
        String[] values = new String[2 * sorted.length + 1];
        int n = 0;
        values[n++] = dflt; // from address 0
        Net[] stack = new Net[130];
        int depth = 0;
        for (Net e : sorted) {
            while (depth > 0 && before(stack[depth - 1], e)) {
                n = close(stack[--depth], depth > 0 ? stack[depth - 1].value : dflt, v4, hi, lo, values, n);
            }
            n = emit(e.hi, e.lo, e.value, hi, lo, values, n);
            stack[depth++] = e;
        }
        while (depth > 0) {
            n = close(stack[--depth], depth > 0 ? stack[depth - 1].value : dflt, v4, hi, lo, values, n);
        }
        return new Ranges(Arrays.copyOf(hi, n), Arrays.copyOf(lo, n), Arrays.copyOf(values, n));
    }

    /** Whether {@code open} ends before {@code next} starts. */
    private static boolean before(Net open, Net next) {
        int c = Long.compareUnsigned(open.endHi, next.hi);
        return c < 0 || (c == 0 && Long.compareUnsigned(open.endLo, next.lo) < 0);
    }

    /** After {@code t} ends, the enclosing value resumes (unless {@code t} ends at the last address). */
    private static int close(Net t, String outer, boolean v4, long[] hi, long[] lo, String[] values, int n) {
        boolean last = v4 ? t.endLo == 0xffffffffL : t.endHi == -1L && t.endLo == -1L;
        if (last) {
            return n; // nothing after the last address
        }
        long nextLo = t.endLo + 1;
        long nextHi = !v4 && nextLo == 0 ? t.endHi + 1 : t.endHi;
        return emit(nextHi, nextLo, outer, hi, lo, values, n);
    }

    private static int emit(long h, long l, String value, long[] hi, long[] lo, String[] values, int n) {
        if (n > 0 && hi[n - 1] == h && lo[n - 1] == l) {
            values[n - 1] = value; // a network starting where the last range starts takes it over
            return n;
        }
        if (values[n - 1].equals(value)) {
            return n; // the same value goes on
        }
        hi[n] = h;
        lo[n] = l;
        values[n] = value;
        return n + 1;
    }

    /** Builder for {@link GeoTable}; each call validates its arguments. */
    public static final class Builder {
        private String defaultValue = "";
        // keyed by the masked network: a network given twice keeps the last value
        private final Map<String, Net> v4 = new LinkedHashMap<>();
        private final Map<String, Net> v6 = new LinkedHashMap<>();
        private final Map<String, String> interned = new HashMap<>();

        private Builder() {
        }

        /** The value when no network matches (nginx {@code default}); the empty string unless set. */
        public Builder defaultValue(String value) {
            this.defaultValue = intern(Objects.requireNonNull(value, "defaultValue"));
            return this;
        }

        /**
         * Adds a network ({@code 10.0.0.0/8}, {@code 192.0.2.1}, {@code 2001:db8::/32}) and its value;
         * {@code 0.0.0.0/0} and {@code ::/0} are accepted (nginx: {@code default} is {@code 0.0.0.0/0}).
         */
        public Builder add(String cidr, String value) {
            Objects.requireNonNull(cidr, "cidr");
            Objects.requireNonNull(value, "value");
            int slash = cidr.indexOf('/');
            String addr = slash < 0 ? cidr : cidr.substring(0, slash);
            byte[] a = IpAddresses.parse(addr);
            if (a == null) {
                throw new IllegalArgumentException("bad CIDR '" + cidr + "': not an IP address literal");
            }
            int max = a.length * 8;
            int prefix = max;
            if (slash >= 0) {
                String p = cidr.substring(slash + 1);
                if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                        || (prefix = Integer.parseInt(p)) > max) {
                    throw new IllegalArgumentException("bad CIDR '" + cidr + "': prefix length must be 0.." + max);
                }
            }
            long hi;
            long lo;
            long maskHi;
            long maskLo;
            if (a.length == 4) {
                hi = 0;
                lo = bytes4(a);
                maskHi = 0;
                maskLo = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
            } else {
                hi = bytes(a, 0);
                lo = bytes(a, 8);
                maskHi = prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix);
                maskLo = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
            }
            if ((hi & ~maskHi) != 0 || (lo & ~maskLo & (a.length == 4 ? 0xffffffffL : -1L)) != 0) {
                log.warn("geo: low address bits of {} are meaningless", cidr);
                hi &= maskHi;
                lo &= maskLo;
            }
            long endHi = a.length == 4 ? 0 : hi | ~maskHi;
            long endLo = a.length == 4 ? lo | (~maskLo & 0xffffffffL) : lo | ~maskLo;
            Net net = new Net(hi, lo, endHi, endLo, prefix, intern(value));
            String key = hi + "/" + lo + "/" + prefix;
            Net old = (a.length == 4 ? v4 : v6).put(key, net);
            if (old != null) {
                log.warn("geo: duplicate network {}, value '{}', old value '{}'", cidr, value, old.value);
            }
            return this;
        }

        /**
         * One line of a geo file: {@code CIDR VALUE}, {@code default VALUE}, an optional trailing
         * {@code ;}, blank or {@code #} comment lines. Values are one word, or quoted with {@code "}.
         */
        public Builder line(String line) {
            String s = line.strip();
            int hash = s.indexOf('#');
            if (hash == 0) {
                return this;
            }
            if (s.endsWith(";")) {
                s = s.substring(0, s.length() - 1).strip();
            }
            if (s.isEmpty()) {
                return this;
            }
            int sp = 0;
            while (sp < s.length() && !Character.isWhitespace(s.charAt(sp))) {
                sp++;
            }
            if (sp == s.length()) {
                throw new IllegalArgumentException("expected 'CIDR VALUE', got '" + line + "'");
            }
            String key = s.substring(0, sp);
            String value = s.substring(sp).strip();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = value.substring(1, value.length() - 1);
            } else if (value.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("expected one value after '" + key + "', got '" + value + "'");
            }
            return key.equals("default") ? defaultValue(value) : add(key, value);
        }

        public GeoTable build() {
            return new GeoTable(this);
        }

        private String intern(String v) {
            return interned.computeIfAbsent(v, k -> k);
        }

        private static long bytes4(byte[] a) {
            return ((a[0] & 0xffL) << 24) | ((a[1] & 0xffL) << 16) | ((a[2] & 0xffL) << 8) | (a[3] & 0xffL);
        }
    }

    /** Networks of one family, for tests. */
    List<String> ranges4() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v4Start.length; i++) {
            out.add(v4Start[i] + "=" + v4Value[i]);
        }
        return out;
    }
}

package io.lbkit.health;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/** An immutable set of HTTP status codes 100..599, printed as ranges ("200-399", "200,204,301-302"). */
final class StatusRanges {
    static final StatusRanges DEFAULT = parse("200-399");

    private final BitSet codes;
    private final String text;

    private StatusRanges(BitSet codes) {
        this.codes = codes;
        this.text = render(codes);
    }

    boolean contains(int status) {
        return status >= 0 && status < 600 && codes.get(status);
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StatusRanges other && codes.equals(other.codes);
    }

    @Override
    public int hashCode() {
        return codes.hashCode();
    }

    /** Parses "200-399", "200,204", "2xx", "200-299,404". */
    static StatusRanges parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("expectedStatuses must not be empty, got '" + spec + "'");
        }
        List<int[]> ranges = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            try {
                if (p.length() == 3 && (p.endsWith("xx") || p.endsWith("XX"))) {
                    int h = Integer.parseInt(p.substring(0, 1)) * 100;
                    ranges.add(new int[] {h, h + 99});
                } else if (p.indexOf('-') > 0) {
                    int dash = p.indexOf('-');
                    ranges.add(new int[] {Integer.parseInt(p.substring(0, dash).trim()),
                            Integer.parseInt(p.substring(dash + 1).trim())});
                } else {
                    int c = Integer.parseInt(p);
                    ranges.add(new int[] {c, c});
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expectedStatuses: cannot parse '" + p + "' in '" + spec
                        + "' (use codes and ranges such as 200-399,404)");
            }
        }
        BitSet set = new BitSet(600);
        for (int[] r : ranges) {
            add(set, r[0], r[1]);
        }
        return new StatusRanges(set);
    }

    static StatusRanges of(int... codes) {
        if (codes.length == 0) {
            throw new IllegalArgumentException("expectedStatuses must not be empty, got none");
        }
        BitSet set = new BitSet(600);
        for (int c : codes) {
            add(set, c, c);
        }
        return new StatusRanges(set);
    }

    StatusRanges plus(int from, int to) {
        BitSet set = (BitSet) codes.clone();
        add(set, from, to);
        return new StatusRanges(set);
    }

    static StatusRanges range(int from, int to) {
        BitSet set = new BitSet(600);
        add(set, from, to);
        return new StatusRanges(set);
    }

    private static void add(BitSet set, int from, int to) {
        if (from < 100 || from > 599) {
            throw new IllegalArgumentException("expectedStatuses must be within 100-599, got " + from);
        }
        if (to < 100 || to > 599) {
            throw new IllegalArgumentException("expectedStatuses must be within 100-599, got " + to);
        }
        if (to < from) {
            throw new IllegalArgumentException("expectedStatuses range must not be reversed, got " + from + "-" + to);
        }
        set.set(from, to + 1);
    }

    private static String render(BitSet set) {
        StringBuilder sb = new StringBuilder();
        int i = set.nextSetBit(0);
        while (i >= 0) {
            int end = set.nextClearBit(i) - 1;
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            i = set.nextSetBit(end + 1);
        }
        return sb.toString();
    }
}

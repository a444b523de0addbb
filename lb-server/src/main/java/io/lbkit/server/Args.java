package io.lbkit.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small GNU-style option parser: {@code --flag value}, {@code --flag=value} and boolean
 * {@code --flag}. Every problem is a {@link UsageException} with a one-line reason.
 */
final class Args {

    private final Map<String, List<String>> values = new LinkedHashMap<>();

    private Args() {
    }

    /**
     * Parses {@code args[from..]}.
     *
     * @param valued     flags that take a value
     * @param repeatable the subset of {@code valued} that may be given more than once
     * @param booleans   flags without a value
     */
    static Args parse(String[] args, int from, String usage, Set<String> valued, Set<String> repeatable,
                      Set<String> booleans) throws UsageException {
        Args a = new Args();
        for (int i = from; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException(usage, "unexpected argument '" + arg + "'");
            }
            String flag = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (booleans.contains(flag)) {
                if (value != null) {
                    throw new UsageException(usage, flag + " takes no value, got '" + value + "'");
                }
                value = "";
            } else if (valued.contains(flag)) {
                if (value == null) {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new UsageException(usage, "missing value for " + flag);
                    }
                    value = args[++i];
                }
            } else {
                throw new UsageException(usage, "unknown option " + flag);
            }
            List<String> list = a.values.computeIfAbsent(flag, k -> new ArrayList<>());
            if (!list.isEmpty() && !repeatable.contains(flag)) {
                throw new UsageException(usage, flag + " may be given only once");
            }
            list.add(value);
        }
        return a;
    }

    boolean has(String flag) {
        return values.containsKey(flag);
    }

    /** The single value of {@code flag}, or null. */
    String get(String flag) {
        List<String> list = values.get(flag);
        return list == null ? null : list.get(0);
    }

    /** Every value of {@code flag} in order (empty when absent). */
    List<String> all(String flag) {
        return values.getOrDefault(flag, List.of());
    }

    static long parseLong(String usage, String flag, String text, long min) throws UsageException {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(usage, "bad value for " + flag + ": '" + text + "' is not an integer");
        }
        if (v < min) {
            throw new UsageException(usage, "bad value for " + flag + ": must be >= " + min + ", got " + v);
        }
        return v;
    }

    static int parseInt(String usage, String flag, String text, int min) throws UsageException {
        long v = parseLong(usage, flag, text, min);
        if (v > Integer.MAX_VALUE) {
            throw new UsageException(usage, "bad value for " + flag + ": must be <= " + Integer.MAX_VALUE
                    + ", got " + v);
        }
        return (int) v;
    }
}

package io.lbkit.server;

import io.lbkit.core.split.TrafficSplit;
import java.io.PrintStream;
import java.util.Set;

/**
 * {@code split}: prints, for each line of the keys file, the variant nginx {@code split_clients}
 * would choose for that key (an empty line when no part matches).
 */
final class SplitCommand {

    static final String USAGE = "usage: java -jar lb-server.jar split --part PERCENT=VALUE... --keys FILE";

    private static final Set<String> VALUED = Set.of("--part", "--keys");
    private static final Set<String> REPEATABLE = Set.of("--part");

    private SplitCommand() {
    }

    static int run(String[] args, PrintStream out) throws UsageException {
        Args a = Args.parse(args, 1, USAGE, VALUED, REPEATABLE, Set.of());
        if (a.all("--part").isEmpty()) {
            throw new UsageException(USAGE, "missing --part PERCENT=VALUE (e.g. --part 12.5%=A --part '*=B')");
        }
        TrafficSplit.Builder<String> b = TrafficSplit.builder();
        for (String part : a.all("--part")) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new UsageException(USAGE, "bad --part '" + part + "': expected PERCENT=VALUE, e.g. 12.5%=A or *=B");
            }
            String percent = part.substring(0, eq).trim();
            String value = part.substring(eq + 1);
            try {
                if (percent.equals("*")) {
                    b.rest(value);
                } else {
                    b.part(percent, value);
                }
            } catch (IllegalArgumentException e) {
                throw new UsageException(USAGE, "bad --part '" + part + "': " + e.getMessage());
            }
        }
        TrafficSplit<String> split = b.build();
        String file = a.get("--keys");
        if (file == null) {
            throw new UsageException(USAGE, "missing --keys FILE");
        }
        KeysFile keys = KeysFile.read(USAGE, file);
        for (int i = 0; i < keys.lines(); i++) {
            out.println(split.select(keys.data, keys.start(i), keys.length(i)).orElse(""));
        }
        return 0;
    }
}

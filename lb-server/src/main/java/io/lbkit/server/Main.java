package io.lbkit.server;

import io.lbkit.core.BalancingPolicy;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Command-line entry point of {@code lb-server.jar}: {@code simulate} and {@code split}.
 *
 * <p>Exit status: 0 on success, 2 on bad arguments (one {@code error: <reason>} line and a usage line
 * on stderr), 1 on an unexpected failure (one {@code error:} line).
 */
public final class Main {

    static final String USAGE = "usage: java -jar lb-server.jar <demo|serve|simulate|split> [options]  (--help for details)";

    static final String HELP = String.join("\n",
            "lbkit command-line tools",
            "",
            DemoCommand.USAGE,
            ServeCommand.USAGE.replace("usage:", "      "),
            SimulateCommand.USAGE,
            SplitCommand.USAGE.replace("usage:", "      "),
            "",
            "demo: starts three session-aware backends and the proxy tier in front of them in one JVM (in-memory",
            "session store) and prints curl lines showing round robin, sessions, stickiness, SSE, outlier detection",
            "and the session API; a browser at the proxy's / gets a page showing the same live.",
            "  --port N              the proxy's port (default 8080; 0 = any free port)",
            "  --host ADDR           the proxy's address (default 127.0.0.1)",
            "",
            "serve: runs the proxy tier that FILE (YAML, or JSON when it ends in .json) declares: listeners,",
            "upstreams with health checks, routes, sticky cookies, rate limits, the session store and its API.",
            "The format is in docs/configuration.md. A bad file exits with status 2 and one line naming the",
            "file, the path inside it and the problem. SIGTERM or Ctrl-C stops gracefully.",
            "",
            "simulate: runs picks through an lb-core Upstream and prints the chosen endpoint id, one line",
            "per pick (each pick is completed at once with status 200), or with --summary a table.",
            "  --algorithm NAME      " + String.join(", ", BalancingPolicy.NAMES.subList(0, 7)) + ",",
            "                        " + String.join(", ", BalancingPolicy.NAMES.subList(7, BalancingPolicy.NAMES.size())),
            "  --endpoint ID[=W]     an endpoint and its weight (default 1); repeat it or separate with",
            "                        commas. For hash and consistent-hash, ID is what nginx hashes, normally",
            "                        host:port. For jump the endpoints are the buckets in the order given.",
            "  --requests N          N picks. The hashing policies hash the keys key-0 .. key-(N-1); ip-hash",
            "                        uses the clients 10.0.0.1, 10.0.1.1, 10.0.2.1, ... (one per /24).",
            "  --keys FILE           one pick per line of FILE. ip-hash: the line is an IPv4 or IPv6 literal",
            "                        (never resolved). jump: a line that is a decimal signed 64-bit integer",
            "                        is the key itself; any other line is hashed as its UTF-8 bytes. Other",
            "                        policies: the line's bytes are the hash key.",
            "  --summary             a table instead: per endpoint weight, picks, share, expected share",
            "                        (weight / total; jump ignores weights: 1/n).",
            "  --remove ID           with --summary and a hashing policy (ip-hash, hash, consistent-hash,",
            "                        maglev, jump, rendezvous): run the keys again without ID and report",
            "                        how many moved, and how many of those were not on ID.",
            "  --balance-factor F    bounded loads, percent (0 = off, else >= 100): consistent-hash,",
            "                        maglev, jump, rendezvous.",
            "  --table-size M        maglev lookup table size, a prime (default 65537).",
            "  --seed S              random, random-two, least-request, peak-ewma: reproducible draws.",
            "",
            "split: prints, per line of FILE, the part nginx split_clients chooses for that key (the line's",
            "bytes, MurmurHash2), or an empty line when no part matches.",
            "  --part PERCENT=VALUE  e.g. --part 12.5%=A; '*=B' takes the rest and comes last. Repeat, in order.",
            "  --keys FILE           one key per line.",
            "",
            "Options also accept --name=value. Exit status: 0 ok, 2 bad arguments, 1 unexpected failure.",
            "");

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(status);
    }

    /**
     * Runs one command. Never throws and never prints a stack trace.
     *
     * @return the exit status: 0 ok, 2 bad arguments, 1 unexpected failure
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0) {
                throw new UsageException(USAGE, "missing command (demo, serve, simulate or split)");
            }
            String command = args[0];
            if (command.equals("--help") || command.equals("-h") || command.equals("help")
                    || (args.length > 1 && (args[1].equals("--help") || args[1].equals("-h")))) {
                out.print(HELP);
                out.flush();
                return 0;
            }
            int status;
            switch (command) {
                case "simulate":
                    status = SimulateCommand.run(args, out);
                    break;
                case "split":
                    status = SplitCommand.run(args, out);
                    break;
                case "serve":
                    status = ServeCommand.run(args, out, err);
                    break;
                case "demo":
                    status = DemoCommand.run(args, out, err);
                    break;
                default:
                    throw new UsageException(USAGE, "unknown command '" + command + "' (demo, serve, simulate or split)");
            }
            out.flush();
            return status;
        } catch (UsageException e) {
            out.flush();
            err.println("error: " + oneLine(e.getMessage()));
            err.println(e.usage());
            err.flush();
            return 2;
        } catch (RuntimeException | OutOfMemoryError e) {
            out.flush();
            err.println("error: " + oneLine(e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage())));
            err.flush();
            return 1;
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("[\\r\\n]+", " ");
    }
}

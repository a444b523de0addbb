package io.lbkit.proxy;

/** Command-line entry point of {@code lb-proxy.jar}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.err.println("usage: java -jar lb-proxy.jar <simulate|split> ...");
        System.exit(2);
    }
}

package io.lbkit.server;

/**
 * Bad command-line input: {@link Main} prints {@code error: <message>} and the command's usage line
 * on stderr and exits with status 2.
 */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The one-line usage to print after the error (the command's, or the general one). */
    private final String usage;

    UsageException(String usage, String message) {
        super(message, null, false, false);
        this.usage = usage;
    }

    String usage() {
        return usage;
    }
}

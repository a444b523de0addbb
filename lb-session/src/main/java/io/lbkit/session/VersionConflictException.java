package io.lbkit.session;

/** A compare-and-set save found another version stored; nothing was written. HTTP: 409. */
public class VersionConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long expected;
    private final long actual;

    public VersionConflictException(long expected, long actual) {
        super("session version is " + actual + ", expected " + expected);
        this.expected = expected;
        this.actual = actual;
    }

    public long expected() {
        return expected;
    }

    public long actual() {
        return actual;
    }
}

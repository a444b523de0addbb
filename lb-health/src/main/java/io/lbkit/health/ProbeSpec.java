package io.lbkit.health;

/**
 * What one active probe does: an {@link HttpCheck} or a {@link TcpCheck}. Timing (interval, timeout,
 * rise/fall) lives in {@link ActiveCheck}.
 */
public sealed interface ProbeSpec permits HttpCheck, TcpCheck {
}

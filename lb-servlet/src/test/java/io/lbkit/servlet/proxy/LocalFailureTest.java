package io.lbkit.servlet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class LocalFailureTest {

    @Test
    void failuresThatAreNotTheEndpoints() {
        assertEquals(400, BackendFailures.localFailureStatus(new NumberFormatException("!hex z")));
        assertEquals(400, BackendFailures.localFailureStatus(new IllegalArgumentException("Bad URI % encoding")));
        assertEquals(503, BackendFailures.localFailureStatus(new RejectedExecutionException("queue full")));
        assertEquals(500, BackendFailures.localFailureStatus(new NullPointerException()));
        // the endpoint's, the network's or the exchange's: handled as before
        assertEquals(0, BackendFailures.localFailureStatus(new IOException("reset")));
        assertEquals(0, BackendFailures.localFailureStatus(new TimeoutException()));
        assertEquals(0, BackendFailures.localFailureStatus(new CancellationException()));
        assertEquals(0, BackendFailures.localFailureStatus(new IllegalStateException("closed", new IOException("x"))));
        assertEquals(0, BackendFailures.localFailureStatus(new IllegalArgumentException("wrapped", new IOException("x"))));
    }
}

import io.lbkit.core.BalancingPolicy;
import io.lbkit.core.Endpoint;
import io.lbkit.core.PickRequest;
import io.lbkit.core.Selection;
import io.lbkit.core.Upstream;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * Diagnostic: does a jump pick with a numeric key ({@code PickRequest.hashKey(long)}) write the
 * key's decimal text, which jump never reads? Prints the request's lazy-text state before and
 * after one pick.
 *
 * <pre>
 * java -cp lb-benchmarks/target/benchmarks.jar lb-benchmarks/scripts/LongKeyText.java
 * </pre>
 */
public class LongKeyText {
    public static void main(String[] a) throws Exception {
        List<Endpoint> eps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            eps.add(Endpoint.parseBuilder("10.0.0." + (i + 1) + ":8080").build());
        }
        Upstream u = Upstream.builder("x").policy(BalancingPolicy.builder("jump").build()).endpoints(eps).build();
        PickRequest r = PickRequest.create().hashKey(-1234567890123456789L);
        Field pending = PickRequest.class.getDeclaredField("keyTextPending");
        pending.setAccessible(true);
        Field len = PickRequest.class.getDeclaredField("keyLength");
        len.setAccessible(true);
        System.out.println("before pick: keyTextPending=" + pending.get(r) + " keyLength=" + len.get(r));
        Selection s = u.pick(r);
        System.out.println("after pick:  keyTextPending=" + pending.get(r) + " keyLength=" + len.get(r));
        s.complete(200, 1000L);
    }
}

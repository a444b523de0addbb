package io.lbkit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lbkit.config.ConfigLoader;
import java.io.File;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven through Selenium WebDriver), with traffic flowing through the proxy to real backends:
 * the page asks for the token, shows every endpoint live, and its buttons drain, re-weight and
 * readmit an endpoint, checked on the backends' request counts. It writes
 * {@code target/dashboard.png}. Without Chromium it is skipped, except under {@code CI=true}
 * where it fails.
 */
class DashboardIT {

    private static final String TOKEN = "admin-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> BROWSERS = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");
    private static final List<String> DRIVERS = List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");

    @TempDir
    Path dir;

    private final CountingBackends backends = new CountingBackends();
    private ProxyServer proxy;
    private WebDriver browser;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        backends.stopTraffic();
        if (proxy != null) {
            proxy.close();
        }
        backends.close();
    }

    private static String firstExisting(List<String> paths) {
        return paths.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
    }

    private WebDriver chromium() {
        String binary = firstExisting(BROWSERS);
        String driver = firstExisting(DRIVERS);
        if (binary == null || driver == null) {
            String missing = "DashboardIT needs Chromium and its driver (apt-get install chromium chromium-driver); missing: "
                    + (binary == null ? BROWSERS + " " : "") + (driver == null ? DRIVERS : "");
            if ("true".equals(System.getenv("CI"))) {
                fail(missing);
            }
            Assumptions.abort(missing);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(binary);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,540", "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driver))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private JsonNode peer(String id) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.adminUri().resolve("/api/upstreams/app"))
                .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        for (JsonNode p : JSON.readTree(r.body()).get("peers")) {
            if (p.get("id").asText().equals(id)) {
                return p;
            }
        }
        throw new AssertionError("no peer " + id + " in " + r.body());
    }

    private boolean peerPanic() throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(proxy.adminUri().resolve("/api/upstreams/app"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).get("panic").asBoolean();
    }

    private void until(String what, Duration timeout, BooleanSupplier condition) {
        new WebDriverWait(browser, timeout).withMessage(what).until(d -> condition.getAsBoolean());
    }

    private WebElement row(String id) {
        return browser.findElement(By.cssSelector("tr.peer[data-upstream='app'][data-endpoint='" + id + "']"));
    }

    private String cell(String id, String name) {
        return row(id).findElement(By.className("c-" + name)).getText();
    }

    /** Points drawn in an endpoint's requests-per-second chart (one an event). */
    private int chartPoints(String id) {
        String points = row(id).findElement(By.cssSelector("polyline.rps")).getDomAttribute("points");
        return points == null || points.isBlank() ? 0 : points.trim().split(" ").length;
    }

    @Test
    void thePageShowsEveryEndpointLiveAndItsButtonsDrainReweightAndReadmit() throws Exception {
        browser = chromium();
        Path file = Cli.write(dir, "lbkit.yaml", """
                engine: event-loop
                listen: ["127.0.0.1:0"]
                shutdownTimeout: 10s
                admin:
                  listen: 127.0.0.1:0
                  token: %s
                upstreams:
                  app:
                    endpoints:
                      - { address: "127.0.0.1:%d", id: a }
                      - { address: "127.0.0.1:%d", id: b }
                      - { address: "127.0.0.1:%d", id: c }
                routes:
                  - { name: all, upstream: app }
                """.formatted(TOKEN, backends.start("a"), backends.start("b"), backends.start("c")));
        proxy = ProxyServer.start(ConfigLoader.load(file));
        backends.traffic(proxy.uris().get(0).resolve("/x"), 200_000);

        // the page holds no data until it has the token; then it keeps it in this tab only
        browser.get(proxy.adminUri().resolve("/dashboard").toString());
        until("the token form", Duration.ofSeconds(20), () -> browser.findElement(By.id("token")).isDisplayed());
        assertTrue(browser.findElements(By.cssSelector("tr.peer")).isEmpty());
        browser.findElement(By.id("token")).sendKeys(TOKEN);
        browser.findElement(By.id("connect")).click();
        until("every endpoint with traffic", Duration.ofSeconds(30), () -> {
            List<WebElement> rows = browser.findElements(By.cssSelector("tr.peer"));
            return rows.size() == 3 && List.of("a", "b", "c").stream().allMatch(id -> rate(cell(id, "rps")) > 0);
        });
        assertEquals(List.of("a", "b", "c"), browser.findElements(By.cssSelector("tr.peer")).stream()
                .map(r -> r.getDomAttribute("data-endpoint")).toList());
        for (String id : List.of("a", "b", "c")) {
            assertEquals("up", cell(id, "state"));
            assertEquals("1", cell(id, "weight"));
            assertTrue(cell(id, "server").contains(peer(id).get("server").asText()), cell(id, "server"));
            assertTrue(cell(id, "latency").matches("[0-9.]+ / [0-9.]+ / [0-9.]+"), cell(id, "latency"));
            assertTrue(cell(id, "errors").startsWith("0 "), cell(id, "errors"));
            assertTrue(cell(id, "health").startsWith("up"), cell(id, "health"));
        }
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertFalse(browser.findElement(By.id("login")).isDisplayed(), "the token form is gone");
        assertEquals(TOKEN, js.executeScript("return sessionStorage.getItem('lbkit.admin.token')"));
        assertNull(js.executeScript("return localStorage.getItem('lbkit.admin.token')"));
        assertFalse(browser.getCurrentUrl().contains(TOKEN));
        until("a few seconds of chart", Duration.ofSeconds(30), () -> chartPoints("b") >= 8);

        // "Drain" on b: the page shows it draining, and the backends see traffic move off b
        row("b").findElement(By.cssSelector("button.drain")).click();
        until("b draining on the page", Duration.ofSeconds(20), () -> cell("b", "state").equals("draining"));
        assertEquals("draining", peer("b").get("state").asText());
        until("b idle", Duration.ofSeconds(20), () -> {
            try {
                return peer("b").get("active").asInt() == 0;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        int b = backends.served("b");
        int ac = backends.served("a") + backends.served("c");
        until("100 more requests", Duration.ofSeconds(30), () -> backends.served("a") + backends.served("c") >= ac + 100);
        assertEquals(b, backends.served("b"), "no request reached b while it drained");
        until("b at 0 req/s on the page", Duration.ofSeconds(20), () -> rate(cell("b", "rps")) == 0);

        // "Set weight" 3 on c
        WebElement weight = row("c").findElement(By.cssSelector("input.weight"));
        weight.sendKeys("3");
        row("c").findElement(By.cssSelector("button.reweight")).click();
        until("c at weight 3 on the page", Duration.ofSeconds(20), () -> cell("c", "weight").equals("3"));
        assertEquals(3, peer("c").get("weight").asInt());
        assertEquals(peerPanic(), browser.findElement(By.cssSelector("section.upstream .panic")).isDisplayed());
        until("more chart", Duration.ofSeconds(30), () -> chartPoints("b") >= 16);
        Path png = Path.of("target", "dashboard.png");
        Files.write(png, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        assertTrue(Files.size(png) > 10_000, "a screenshot with something in it");

        // "Up" on b: it serves again
        row("b").findElement(By.cssSelector("button.up")).click();
        until("b up on the page", Duration.ofSeconds(20), () -> cell("b", "state").equals("up"));
        until("b serving again", Duration.ofSeconds(30), () -> backends.served("b") > b + 10);

        backends.stopTraffic();
        assertEquals(0, backends.failureCount(), backends.failures());
    }

    private static double rate(String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            return -1; // "–": no rate yet
        }
    }
}

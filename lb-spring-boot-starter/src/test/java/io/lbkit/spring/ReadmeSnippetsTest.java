package io.lbkit.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java snippets of README.md and docs/spring-boot.md compile against lbkit's modules (this
 * module's test class path has lb-core, lb-health, lb-session, lb-proxy, lb-servlet and Spring MVC),
 * so the quick starts cannot rot. How a snippet is wrapped, and how one is marked as not compiled
 * on purpose, is {@link MarkdownSnippets}'.
 */
class ReadmeSnippetsTest {

    /** The Markdown files whose snippets are compiled, relative to the repository's root. */
    static final List<String> FILES = List.of("README.md", "docs/spring-boot.md");

    @Test
    void everyJavaSnippetCompiles(@TempDir Path out) throws Exception {
        String classPath = MarkdownSnippets.testClassPath();
        for (String module : List.of("lb-core", "lb-health", "lb-proxy", "lb-servlet", "spring-web")) {
            assertTrue(MarkdownSnippets.hasEntry(classPath, module), module + " is not on the class path the snippets compile against");
        }
        List<MarkdownSnippets.Snippet> snippets = new ArrayList<>();
        int[] skipped = {0};
        for (String file : FILES) {
            snippets.addAll(MarkdownSnippets.extract(file, Files.readString(Path.of("..").resolve(file)), skipped));
        }
        // README: the servlet proxy tier and the Java API; spring-boot.md: the controller
        assertTrue(snippets.size() >= 3, "found only " + snippets.size() + " snippets: " + snippets);
        MarkdownSnippets.Result result = MarkdownSnippets.compile(snippets, skipped[0], classPath, out);
        assertEquals(List.of(), result.errors(), "snippets that do not compile");
        assertEquals(0, result.skipped(), "no snippet of these files is marked not compiled today");
    }

    @Test
    void aSnippetThatDoesNotCompileIsReportedWithItsOrigin(@TempDir Path out) throws Exception {
        String markdown = "# t\n\n```java\nUpstream u = Upstream.builder(\"a\").nosuchMethod();\n```\n";
        List<MarkdownSnippets.Snippet> snippets = MarkdownSnippets.extract("T.md", markdown, new int[1]);
        MarkdownSnippets.Result result = MarkdownSnippets.compile(snippets, 0, MarkdownSnippets.testClassPath(), out);
        assertEquals(1, result.errors().size(), result.errors().toString());
        assertTrue(result.errors().get(0).startsWith("T.md:3 "), result.errors().get(0));
        assertTrue(result.errors().get(0).contains("nosuchMethod"), result.errors().get(0));
    }

    @Test
    void aSnippetMarkedNotCompiledIsSkippedAndATypeDeclarationIsNotWrapped(@TempDir Path out) throws Exception {
        String markdown = "<!-- snippet: not compiled (pseudo-code) -->\n```java\nthis is not java\n```\n\n"
                + "```java\nimport java.util.List;\n\n@SuppressWarnings(\"unused\")\nrecord Pair(List<String> a) { }\n```\n";
        int[] skipped = {0};
        List<MarkdownSnippets.Snippet> snippets = MarkdownSnippets.extract("T.md", markdown, skipped);
        assertEquals(1, skipped[0]);
        assertEquals(1, snippets.size());
        assertTrue(MarkdownSnippets.source(snippets.get(0), 0).contains("\nrecord Pair"), "a type declaration is its own unit");
        assertEquals(List.of(), MarkdownSnippets.compile(snippets, 1, MarkdownSnippets.testClassPath(), out).errors());
        assertTrue(Files.exists(out.resolve("snippets/Pair.class")));
    }
}

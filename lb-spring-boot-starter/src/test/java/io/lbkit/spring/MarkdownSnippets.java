package io.lbkit.spring;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * The {@code ```java} blocks of a Markdown file, compiled with javac against the test class path.
 *
 * <p>A block that declares a top-level type ({@code class}, {@code record}, {@code interface},
 * {@code enum}, after any annotations) is a compilation unit as it stands; any other block is a
 * run of statements, compiled as the body of a method whose parameters are the
 * {@linkplain #GIVEN names a snippet may use without declaring}. Every block gets the
 * {@linkplain #IMPORTS imports} a reader is expected to add, besides its own {@code import} lines.
 * A block right after the line {@code <!-- snippet: not compiled ... -->} (the rest of the
 * comment says why) is skipped on purpose.
 */
final class MarkdownSnippets {

    /** What the snippets may use without importing: the packages of the modules a reader adds. */
    static final List<String> IMPORTS = List.of(
            "io.lbkit.core.*", "io.lbkit.health.*", "io.lbkit.session.*", "io.lbkit.proxy.*",
            "io.lbkit.servlet.proxy.*", "io.lbkit.servlet.backend.*",
            "jakarta.servlet.*", "jakarta.servlet.http.*", "java.util.*", "java.time.*",
            "org.springframework.web.bind.annotation.*");

    /** Variables a statement snippet may use without declaring them, as method parameters. */
    static final String GIVEN = "jakarta.servlet.ServletContext servletContext";

    static final String SKIP_MARK = "<!-- snippet: not compiled";

    private static final Pattern BLOCK = Pattern.compile("(?m)^```java[ \\t]*\\R(.*?)^```[ \\t]*$", Pattern.DOTALL);
    private static final Pattern TYPE_DECLARATION = Pattern.compile(
            "(?m)^(?:@\\w+(?:\\([^)]*\\))?\\s+)*(?:public\\s+|final\\s+|abstract\\s+)*(?:class|record|interface|enum)\\s+\\w+");

    /** One block: where it comes from (file and line of its fence) and its text. */
    record Snippet(String origin, String code) { }

    /** What compiling a list of snippets gave: how many were compiled, skipped, and javac's errors. */
    record Result(int compiled, int skipped, List<String> errors) { }

    private MarkdownSnippets() {
    }

    /** The blocks of {@code markdown}, those marked not compiled left out and counted in {@code skipped}. */
    static List<Snippet> extract(String name, String markdown, int[] skipped) {
        List<Snippet> snippets = new ArrayList<>();
        Matcher m = BLOCK.matcher(markdown);
        while (m.find()) {
            String before = markdown.substring(0, m.start()).stripTrailing();
            int lastLine = before.lastIndexOf('\n');
            if (before.substring(lastLine + 1).startsWith(SKIP_MARK)) {
                skipped[0]++;
                continue;
            }
            int line = 1 + (int) markdown.substring(0, m.start()).chars().filter(c -> c == '\n').count();
            snippets.add(new Snippet(name + ":" + line, m.group(1)));
        }
        return snippets;
    }

    /** The Java source file a snippet becomes; its class is {@code Snippet<index>} unless it declares its own. */
    static String source(Snippet snippet, int index) {
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        for (String line : snippet.code().split("\\R")) {
            if (line.startsWith("import ")) {
                imports.append(line).append('\n');
            } else {
                body.append(line).append('\n');
            }
        }
        for (String i : IMPORTS) {
            imports.append("import ").append(i).append(";\n");
        }
        String header = "package snippets;\n" + imports;
        if (TYPE_DECLARATION.matcher(body).find()) {
            return header + body;
        }
        return header + "class Snippet" + index + " {\n"
                + "    @SuppressWarnings(\"unused\")\n"
                + "    void run(" + GIVEN + ") throws Exception {\n" + body + "    }\n}\n";
    }

    /** Compiles each snippet as its own source file in one javac run against {@code classPath}. */
    static Result compile(List<Snippet> snippets, int skipped, String classPath, Path outputDir) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        for (int i = 0; i < snippets.size(); i++) {
            units.add(new SnippetSource(snippets.get(i), i, source(snippets.get(i), i)));
        }
        Files.createDirectories(outputDir);
        List<String> options = List.of("-proc:none", "-classpath", classPath, "-d", outputDir.toString());
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            // each snippet is its own file: a type name two snippets declare is reported, not hidden
            javac.getTask(null, files, diagnostics, options, null, units).call();
        }
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                String where = d.getSource() instanceof SnippetSource s ? s.snippet.origin() : "javac";
                errors.add(where + " (line " + d.getLineNumber() + " of the wrapped source): " + d.getMessage(Locale.ROOT)
                        + (d.getSource() instanceof SnippetSource s ? "\n" + s.text : ""));
            }
        }
        return new Result(snippets.size(), skipped, errors);
    }

    /** The class path the tests run with (Surefire passes it in a property, its JVM's own being a manifest jar). */
    static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /** Whether {@code classPath} names a jar or directory of {@code fragment} (e.g. "lb-core"). */
    static boolean hasEntry(String classPath, String fragment) {
        for (String entry : classPath.split(File.pathSeparator)) {
            if (entry.contains(fragment)) {
                return true;
            }
        }
        return false;
    }

    private static final class SnippetSource extends SimpleJavaFileObject {
        final Snippet snippet;
        final String text;

        SnippetSource(Snippet snippet, int index, String text) {
            super(URI.create("string:///snippets/Snippet" + index + Kind.SOURCE.extension), Kind.SOURCE);
            this.snippet = snippet;
            this.text = text;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return text;
        }
    }
}

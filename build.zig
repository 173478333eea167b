//! Builds s3orch with Zig as the C toolchain.
//!   zig build                      debug build with UBSan → zig-out/bin/s3orch
//!   zig build -Doptimize=ReleaseFast
//!   zig build test                 builds and runs every tests/unit/test_*.c
//! Every bench/NAME/ directory with a main.c is a benchmark program NAME (all its .c files) → zig-out/bench/NAME.
//! Every .c and .S under src/ is part of the core library except src/main.c, so a new file needs no edit here.
//! The PostgreSQL store's migrations, src/store/pg_migrations/NNNN_*.sql, are compiled in as a generated C array
//! (pgMigrations below).
const std = @import("std");

const c_flags = [_][]const u8{ "-std=gnu17", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-fno-omit-frame-pointer" };
const system_libs = [_][]const u8{ "uring", "curl", "pq", "wolfssl", "sqlite3", "yaml", "expat" };

pub fn build(b: *std.Build) !void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const sanitize = b.option(std.zig.SanitizeC, "sanitize", "C sanitizer: off, trap or full (default: full in Debug)") orelse
        if (optimize == .Debug) std.zig.SanitizeC.full else std.zig.SanitizeC.off;

    const core = b.addLibrary(.{
        .name = "s3orch_core",
        .linkage = .static,
        .root_module = cModule(b, target, optimize, sanitize),
    });
    core.root_module.addCSourceFiles(.{ .files = try listSources(b, "src"), .flags = &c_flags });
    core.root_module.addCSourceFile(.{ .file = try pgMigrations(b), .flags = &c_flags });
    core.root_module.addSystemIncludePath(.{ .cwd_relative = "/usr/include/postgresql" });

    const exe = b.addExecutable(.{ .name = "s3orch", .root_module = cModule(b, target, optimize, sanitize) });
    exe.root_module.addCSourceFiles(.{ .files = &.{"src/main.c"}, .flags = &c_flags });
    linkCore(exe, core);
    b.installArtifact(exe);

    const run_cmd = b.addRunArtifact(exe);
    if (b.args) |args| run_cmd.addArgs(args);
    b.step("run", "Run s3orch").dependOn(&run_cmd.step);

    var bench_dir = try b.build_root.handle.openDir("bench", .{ .iterate = true });
    defer bench_dir.close();
    var bench_it = bench_dir.iterate();
    while (try bench_it.next()) |entry| {
        if (entry.kind != .directory) continue;
        const root = b.fmt("bench/{s}", .{entry.name});
        bench_dir.access(b.fmt("{s}/main.c", .{entry.name}), .{}) catch continue;
        const bench = b.addExecutable(.{ .name = b.dupe(entry.name), .root_module = cModule(b, target, optimize, sanitize) });
        bench.root_module.addCSourceFiles(.{ .files = try listSources(b, root), .flags = &c_flags });
        bench.root_module.addCSourceFiles(.{ .files = &.{b.fmt("{s}/main.c", .{root})}, .flags = &c_flags });
        linkCore(bench, core);
        const install = b.addInstallArtifact(bench, .{ .dest_dir = .{ .override = .{ .custom = "bench" } } });
        b.getInstallStep().dependOn(&install.step);
    }

    const test_step = b.step("test", "Build and run the C unit tests");
    var dir = try b.build_root.handle.openDir("tests/unit", .{ .iterate = true });
    defer dir.close();
    var it = dir.iterate();
    while (try it.next()) |entry| {
        if (entry.kind != .file or !std.mem.startsWith(u8, entry.name, "test_") or !std.mem.endsWith(u8, entry.name, ".c")) continue;
        const name = entry.name[0 .. entry.name.len - 2];
        const t = b.addExecutable(.{ .name = b.dupe(name), .root_module = cModule(b, target, optimize, sanitize) });
        t.root_module.addCSourceFiles(.{ .files = &.{b.fmt("tests/unit/{s}", .{entry.name})}, .flags = &c_flags });
        linkCore(t, core);
        const install = b.addInstallArtifact(t, .{ .dest_dir = .{ .override = .{ .custom = "tests" } } });
        b.getInstallStep().dependOn(&install.step);
        const run = b.addRunArtifact(t);
        run.setCwd(b.path("."));
        test_step.dependOn(&run.step);
    }
}

fn cModule(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode, sanitize: std.zig.SanitizeC) *std.Build.Module {
    const m = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true, .sanitize_c = sanitize });
    m.addIncludePath(b.path("src"));
    return m;
}

fn linkCore(c: *std.Build.Step.Compile, core: *std.Build.Step.Compile) void {
    c.root_module.linkLibrary(core);
    for (system_libs) |lib| c.root_module.linkSystemLibrary(lib, .{ .use_pkg_config = .no });
    c.root_module.addSystemIncludePath(.{ .cwd_relative = "/usr/include/postgresql" });
}

/// src/store/pg_migrations/NNNN_name.sql, numbered 0001 up without gaps, as the C array store_pg_migrations[]
/// (postgres_impl.h) in a generated file. build() runs on every `zig build`, so an edited .sql is picked up.
fn pgMigrations(b: *std.Build) !std.Build.LazyPath {
    const root = "src/store/pg_migrations";
    var names: std.ArrayList([]const u8) = .empty;
    var dir = try b.build_root.handle.openDir(root, .{ .iterate = true });
    defer dir.close();
    var it = dir.iterate();
    while (try it.next()) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, ".sql")) try names.append(b.allocator, b.dupe(entry.name));
    }
    std.mem.sort([]const u8, names.items, {}, lessThan);

    var out: std.ArrayList(u8) = .empty;
    const a = b.allocator;
    try out.appendSlice(a, "/* Generated by build.zig from the .sql files in " ++ root ++ ": edit those. */\n");
    try out.appendSlice(a, "#include \"store/postgres_impl.h\"\n\nconst char *const store_pg_migrations[] = {\n");
    for (names.items, 1..) |name, i| {
        const want = b.fmt("{d:0>4}_", .{i});
        if (!std.mem.startsWith(u8, name, want)) {
            std.debug.print("{s}/{s}: expected a name starting with {s} (numbered without gaps)\n", .{ root, name, want });
            return error.BadMigrationName;
        }
        const sql = try dir.readFileAlloc(a, name, 1 << 20);
        try out.appendSlice(a, b.fmt("    /* {s} */\n    \"", .{name}));
        for (sql) |c| switch (c) {
            '\\' => try out.appendSlice(a, "\\\\"),
            '"' => try out.appendSlice(a, "\\\""),
            '\n' => try out.appendSlice(a, "\\n\"\n    \""),
            else => try out.append(a, c),
        };
        try out.appendSlice(a, "\",\n");
    }
    try out.appendSlice(a, b.fmt("}};\nconst int store_pg_migrations_count = {d};\n", .{names.items.len}));
    return b.addWriteFiles().add("pg_migrations.c", out.items);
}

/// Every .c and .S file under `root`, except the program's entry point.
fn listSources(b: *std.Build, root: []const u8) ![]const []const u8 {
    var files: std.ArrayList([]const u8) = .empty;
    var dir = try b.build_root.handle.openDir(root, .{ .iterate = true });
    defer dir.close();
    var walker = try dir.walk(b.allocator);
    defer walker.deinit();
    while (try walker.next()) |entry| {
        if (entry.kind != .file) continue;
        if (!std.mem.endsWith(u8, entry.path, ".c") and !std.mem.endsWith(u8, entry.path, ".S")) continue;
        if (std.mem.eql(u8, entry.path, "main.c")) continue;
        try files.append(b.allocator, b.fmt("{s}/{s}", .{ root, entry.path }));
    }
    std.mem.sort([]const u8, files.items, {}, lessThan);
    return files.items;
}

fn lessThan(_: void, a: []const u8, b: []const u8) bool {
    return std.mem.lessThan(u8, a, b);
}

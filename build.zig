//! Builds s3orch with Zig as the C toolchain.
//!   zig build                      debug build with UBSan → zig-out/bin/s3orch
//!   zig build -Doptimize=ReleaseFast
//!   zig build test                 builds and runs every tests/unit/test_*.c
//! Every bench/NAME/ directory with a main.c is a benchmark program NAME (all its .c files) → zig-out/bench/NAME.
//! Every .c and .S under src/ is part of the core library except src/main.c, so a new file needs no edit here.
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

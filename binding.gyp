{
  "targets": [
    {
      "target_name": "selectors",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/backend.cc",
        "native/selector.cc",
        "native/wakeup.cc",
        "native/signals.cc",
        "native/inbox.cc",
        "native/watcher.cc",
        "native/sys.cc",
        "native/sys_net.cc",
        "native/sys_msg.cc",
        "native/sys_file.cc",
        "native/sys_tty.cc",
        "native/sys_linux.cc",
        "native/spawn.cc",
        "native/platform.cc",
        "native/select.cc",
        "native/poll.cc",
        "<!@(node native/configure.mjs sources)"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/configure.mjs include_dirs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "<!@(node native/configure.mjs defines)"
      ],
      "libraries": ["<!@(node native/configure.mjs libraries)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "conditions": [
        ["'<!(node -p \"process.env.NODE_SELECTORS_SANITIZE || 0\")'=='1'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}

#pragma once
// Each subcommand of `deeplab` lives in its own thin file (cmd_<name>.cpp):
// parse arguments -> config -> one library call.  main.cpp registers them.

namespace CLI {
class App;
}

namespace deeplab::tools {

void add_config_command(CLI::App& app);
void add_import_command(CLI::App& app);

}  // namespace deeplab::tools

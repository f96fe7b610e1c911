// common.h: what the cpp_demo programs share: one kind of failure to report, reading files,
// loading a TorchScript archive with its extra files, and writing a file whole or not at all.
#pragma once

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace demo {

namespace fs = std::filesystem;

// A failure to report: one line for the user, an exit status for the shell.
struct Failure {
  std::string message;
  int status = 1;
};

// The first sentence of a c10::Error, without the C++ backtrace and advice LibTorch appends.
inline std::string first_line(const c10::Error& e) {
  std::string text = e.what_without_backtrace();
  std::string line = text.substr(0, text.find('\n'));
  if (line.empty()) line = text;
  std::size_t stop = line.find(". ");
  return stop == std::string::npos ? line : line.substr(0, stop + 1);
}

// Errors from running TorchScript code (std::runtime_error, not always c10::Error) start with a
// TorchScript traceback and end with the real cause: keep that last line.
inline std::string cause(const std::string& text) {
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line)) {
    std::size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos) last = line.substr(start);
  }
  return last.empty() ? text : last;
}

// The whole number `text` spells, if it is one and at least `least` (no trailing characters).
inline std::optional<long long> whole_number(const std::string& text, long long least) {
  try {
    std::size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= least) return value;
  } catch (const std::exception&) {  // not a number, or out of range
  }
  return std::nullopt;
}

inline void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Failure{what + " file not found: " + path};
  if (!fs::is_regular_file(path, ec)) throw Failure{what + " is not a file: " + path};
}

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{"cannot read " + path};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The names of the extra files stored in the archive ("extra/NAME").
inline torch::jit::ExtraFilesMap extra_file_names(const std::string& path) {
  torch::jit::ExtraFilesMap names;
  caffe2::serialize::PyTorchStreamReader reader(path);
  for (const std::string& record : reader.getAllRecords()) {
    if (record.rfind("extra/", 0) == 0) names[record.substr(6)] = "";
  }
  return names;
}

inline torch::jit::script::Module load_model(const std::string& path, torch::jit::ExtraFilesMap& extra) {
  require_file(path, "model");
  try {
    extra = extra_file_names(path);
    return torch::jit::load(path, torch::kCPU, extra);
  } catch (const c10::Error& e) {
    std::string why = first_line(e);
    if (why.find("constants.pkl") != std::string::npos) {
      throw Failure{path + " is not a TorchScript archive but a torch.save() pickle of a Python model. "
                    "Save it for C++ with torch.jit.save(torch.jit.script(model), path) or traced.save(path)."};
    }
    if (why.find("zip archive") != std::string::npos || why.find("central directory") != std::string::npos) {
      throw Failure{path + " is not a TorchScript archive (not a complete zip file: " + why + ")"};
    }
    throw Failure{"cannot load the model " + path + ": " + why};
  } catch (const std::exception& e) {  // compiling the archive's code failed
    std::istringstream lines(e.what());
    std::string why;
    while (why.find_first_not_of(" \t") == std::string::npos && std::getline(lines, why)) {
    }
    if (why.find("Unknown builtin op") != std::string::npos) {
      throw Failure{"cannot load the model " + path + ": " + why +
                    " The model calls an operator from an extension library (such as torchvision's); "
                    "link that library into this program, or keep the operator out of the saved model."};
    }
    throw Failure{"cannot load the model " + path + ": " + why};
  }
}

inline std::string describe(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes() << ' ' << t.scalar_type();
  return out.str();
}

// Pickle a value for Python's torch.load, writing beside the target and renaming, so that a
// failure never leaves a partial file.
inline void save_pickled(const torch::jit::IValue& outputs, const std::string& path) {
  std::vector<char> bytes = torch::pickle_save(outputs);
  std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary);
    if (!out) throw Failure{"cannot write the outputs to " + path + " (does the folder exist, and may we write there?)"};
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      out.close();
      fs::remove(partial);
      throw Failure{"writing " + path + " failed (disk full?)"};
    }
  }
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) {
    fs::remove(partial);
    throw Failure{"cannot write the outputs to " + path + ": " + ec.message()};
  }
}

// Run a program's body; report any failure as one "error:" line and return the exit status.
template <typename Body>
int report_failures(Body body) {
  try {
    return body();
  } catch (const Failure& f) {
    std::cerr << "error: " << f.message << '\n';
    return f.status;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << first_line(e) << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace demo

// run_model: run a TorchScript model on inputs saved from Python, save its outputs for Python.
//
//   run_model MODEL.pt INPUTS.pt OUTPUTS.pt [--repeat N] [--threads N]
//
// MODEL.pt    a TorchScript archive (torch.jit.save, or .save() on a traced or scripted module)
// INPUTS.pt   a list of tensors written by Python's torch.save([x1, x2, ...]): forward's arguments
// OUTPUTS.pt  written with torch::pickle_save: Python's torch.load reads it (a tensor, or a tuple)
// --repeat N  call forward N more times after three warm-up calls (TorchScript optimizes a graph
//             during its first calls) and print the median, minimum and quartile latencies
// --threads N the number of threads LibTorch's operators may use
//
// Every failure prints one line starting with "error:" and exits with status 1 (2 for bad
// arguments); OUTPUTS.pt is only written, whole, when everything worked.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <iostream>
#include <optional>

#include "common.h"

namespace {

using namespace demo;

struct Args {
  std::string model, inputs, outputs;
  int repeat = 1;
  std::optional<int> threads;
};

constexpr const char* kUsage = "usage: run_model MODEL.pt INPUTS.pt OUTPUTS.pt [--repeat N] [--threads N]";

int positive_int(const std::string& option, const std::string& text) {
  std::optional<long long> value = whole_number(text, 1);
  if (!value || *value > std::numeric_limits<int>::max()) {
    throw Failure{option + " needs a whole number of at least 1, got '" + text + "'\n" + kUsage, 2};
  }
  return static_cast<int>(*value);
}

Args parse(int argc, const char* argv[]) {
  Args args;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--repeat" || arg == "--threads") {
      if (i + 1 >= argc) throw Failure{arg + " needs a value\n" + kUsage, 2};
      int value = positive_int(arg, argv[++i]);
      if (arg == "--repeat") args.repeat = value; else args.threads = value;
    } else if (arg == "-h" || arg == "--help") {
      throw Failure{kUsage, 2};
    } else if (arg.rfind("--", 0) == 0) {
      throw Failure{"unknown option " + arg + "\n" + kUsage, 2};
    } else {
      files.push_back(arg);
    }
  }
  if (files.size() != 3) {
    throw Failure{"expected 3 files (model, inputs, outputs), got " + std::to_string(files.size()) + "\n" + kUsage, 2};
  }
  args.model = files[0];
  args.inputs = files[1];
  args.outputs = files[2];
  return args;
}

std::vector<torch::jit::IValue> load_inputs(const std::string& path) {
  require_file(path, "inputs");
  torch::jit::IValue saved;
  try {
    saved = torch::pickle_load(read_bytes(path));
  } catch (const c10::Error& e) {
    throw Failure{"cannot read the inputs " + path + " (write them with torch.save([tensor, ...], path)): " + first_line(e)};
  }
  if (saved.isTensor()) return {saved};
  if (!saved.isList() && !saved.isTuple()) {
    throw Failure{"the inputs " + path + " hold a " + saved.tagKind() + "; write a list of tensors with torch.save([x], path)"};
  }
  std::vector<torch::jit::IValue> inputs = saved.isList() ? saved.toListRef().vec() : saved.toTupleRef().elements().vec();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].isTensor()) {
      throw Failure{"input " + std::to_string(i) + " in " + path + " is a " + inputs[i].tagKind() + ", not a tensor"};
    }
  }
  return inputs;
}

// Outputs become tensors and (nested) tuples of tensors: what torch.load(weights_only=True)
// reads. A list becomes a tuple (LibTorch pickles lists in a form the safe loader refuses);
// a dict of tensors stays a dict.
torch::jit::IValue to_saveable(const torch::jit::IValue& out) {
  if (out.isTensor()) return out;
  if (out.isGenericDict()) {
    for (const auto& item : out.toGenericDict()) {
      if (!item.value().isTensor()) throw Failure{std::string("the model returned a dict holding a ") + item.value().tagKind()};
    }
    return out;
  }
  std::vector<torch::jit::IValue> items;
  if (out.isTuple()) {
    items = out.toTupleRef().elements().vec();
  } else if (out.isList()) {
    items = out.toListRef().vec();
  } else {
    throw Failure{std::string("the model returned a ") + out.tagKind() + "; run_model saves tensors, and tuples, lists and dicts of them"};
  }
  for (auto& item : items) item = to_saveable(item);
  return c10::ivalue::Tuple::create(std::move(items));
}

// "[5, 3] Float" for a tensor; nested outputs are described item by item.
void print_outputs(const torch::jit::IValue& out, const std::string& name) {
  if (out.isTensor()) {
    std::cout << name << ": " << describe(out.toTensor()) << '\n';
  } else if (out.isTuple()) {
    const auto& items = out.toTupleRef().elements();
    for (std::size_t i = 0; i < items.size(); ++i) print_outputs(items[i], name + "[" + std::to_string(i) + "]");
  } else {
    for (const auto& item : out.toGenericDict()) print_outputs(item.value(), name + "['" + item.key().toStringRef() + "']");
  }
}

int run(const Args& args) {
  if (args.threads) at::set_num_threads(*args.threads);
  torch::jit::ExtraFilesMap extra;
  torch::jit::script::Module model = load_model(args.model, extra);
  model.eval();
  std::vector<torch::jit::IValue> inputs = load_inputs(args.inputs);

  std::cout << "model:   " << args.model << " (" << extra.size() << " extra file" << (extra.size() == 1 ? "" : "s") << ")\n";
  for (const auto& [name, content] : extra) {
    std::string shown = content.size() > 200 ? content.substr(0, 200) + "..." : content;
    std::replace(shown.begin(), shown.end(), '\n', ' ');
    std::cout << "  extra/" << name << ": " << shown << '\n';
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) std::cout << "input " << i << ": " << describe(inputs[i].toTensor()) << '\n';

  torch::InferenceMode guard;
  auto call = [&] {
    try {
      return model.forward(inputs);
    } catch (const c10::Error& e) {
      throw Failure{"the model rejected the inputs: " + cause(e.what_without_backtrace())};
    } catch (const std::exception& e) {  // errors raised inside TorchScript code
      throw Failure{"the model rejected the inputs: " + cause(e.what())};
    }
  };
  torch::jit::IValue outputs = call();
  if (args.repeat > 1) {
    for (int i = 0; i < 2; ++i) outputs = call();  // with the call above: three warm-up calls
    std::vector<double> ms;
    for (int i = 0; i < args.repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      outputs = call();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    auto quantile = [&](double q) { return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))]; };
    std::cout << "latency: median " << quantile(0.5) << " ms, min " << ms.front() << " ms, p25 " << quantile(0.25)
              << " ms, p75 " << quantile(0.75) << " ms over " << args.repeat << " calls, " << at::get_num_threads() << " threads\n";
  }
  torch::jit::IValue saveable = to_saveable(outputs);
  print_outputs(saveable, "output");
  save_pickled(saveable, args.outputs);
  std::cout << "wrote:   " << args.outputs << '\n';
  return 0;
}

}  // namespace

int main(int argc, const char* argv[]) {
  return demo::report_failures([&] { return run(parse(argc, argv)); });
}

// classify: label handwritten digits with a TorchScript classifier, as a small deployed app.
//
//   classify MODEL.pt IMAGE.pgm [IMAGE.pgm ...]
//   classify MODEL.pt --tensor IMAGES.pt [--save-logits LOGITS.pt] [--quiet]
//
// The model archive carries what the app needs to know, as extra files:
//   classes.txt  one class name per line, in the order of the model's outputs
//   input.txt    height=8, width=8 and pixel_max=16 (one per line): the image size and the value
//                of a full-intensity pixel in the model's input scale
// Images are PGM files (P2 text or P5 binary, any maxval), read without an image library and
// rescaled to 0..pixel_max. IMAGES.pt is a tensor of shape [N, 1, height, width] saved by
// Python's torch.save. Each image gets one line: its predicted class and the confidence.
// A bad image gets an "error:" line; the others are still classified, and the exit status is 1.
#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <map>

#include "common.h"

namespace {

using namespace demo;

constexpr const char* kUsage =
    "usage: classify MODEL.pt IMAGE.pgm [IMAGE.pgm ...]\n"
    "       classify MODEL.pt --tensor IMAGES.pt [--save-logits LOGITS.pt] [--quiet]";

struct Args {
  std::string model;
  std::vector<std::string> images;
  std::string tensor, save_logits;
  bool quiet = false;
};

Args parse(int argc, const char* argv[]) {
  Args args;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--tensor" || arg == "--save-logits") {
      if (i + 1 >= argc) throw Failure{arg + " needs a file\n" + kUsage, 2};
      (arg == "--tensor" ? args.tensor : args.save_logits) = argv[++i];
    } else if (arg == "--quiet") {
      args.quiet = true;
    } else if (arg.rfind("--", 0) == 0 || arg == "-h") {
      throw Failure{(arg == "-h" || arg == "--help" ? std::string() : "unknown option " + arg + "\n") + kUsage, 2};
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) throw Failure{std::string("no model given\n") + kUsage, 2};
  args.model = files[0];
  args.images.assign(files.begin() + 1, files.end());
  if (args.tensor.empty() == args.images.empty()) {
    throw Failure{std::string("give either PGM images or --tensor IMAGES.pt\n") + kUsage, 2};
  }
  if (!args.save_logits.empty() && args.tensor.empty()) throw Failure{std::string("--save-logits goes with --tensor\n") + kUsage, 2};
  return args;
}

// What the archive's extra files say about the model.
struct Metadata {
  std::vector<std::string> classes;
  int64_t height = 0, width = 0;
  double pixel_max = 0;
};

Metadata read_metadata(const std::string& model, torch::jit::ExtraFilesMap& extra) {
  const char* how = " (save the model with _extra_files={'classes.txt': ..., 'input.txt': ...})";
  if (!extra.count("classes.txt") || !extra.count("input.txt")) {
    throw Failure{model + " lacks extra/classes.txt or extra/input.txt" + how};
  }
  Metadata meta;
  std::istringstream classes(extra["classes.txt"]);
  for (std::string line; std::getline(classes, line);) {
    if (!line.empty()) meta.classes.push_back(line);
  }
  std::map<std::string, std::string> settings;
  std::istringstream input(extra["input.txt"]);
  for (std::string line; std::getline(input, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) settings[line.substr(0, eq)] = line.substr(eq + 1);
  }
  try {
    meta.height = std::stoll(settings.at("height"));
    meta.width = std::stoll(settings.at("width"));
    meta.pixel_max = std::stod(settings.at("pixel_max"));
  } catch (const std::exception&) {
    throw Failure{model + ": extra/input.txt needs height=, width= and pixel_max= lines" + how};
  }
  if (meta.classes.empty() || meta.height < 1 || meta.width < 1 || meta.pixel_max <= 0) {
    throw Failure{model + ": its extra files name no classes or an empty image size" + how};
  }
  return meta;
}

// Read the next PGM header token, skipping white space and # comments.
std::string token(std::istream& in, const std::string& path) {
  std::string out;
  int c;
  while ((c = in.get()) != EOF) {
    if (c == '#') {
      while ((c = in.get()) != EOF && c != '\n') {
      }
    } else if (std::isspace(c)) {
      if (!out.empty()) return out;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (out.empty()) throw Failure{path + ": the PGM header ends early"};
  return out;
}

int64_t pgm_number(const std::string& text, const std::string& what, const std::string& path, int64_t least) {
  if (std::optional<long long> value = whole_number(text, least)) return *value;
  throw Failure{path + ": the PGM " + what + " should be a whole number of at least " + std::to_string(least) + ", got '" + text + "'"};
}

// A PGM image as a [1, 1, height, width] float tensor scaled to 0..pixel_max.
at::Tensor read_pgm(const std::string& path, const Metadata& meta) {
  require_file(path, "image");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure{"cannot read the image " + path};
  char magic[2] = {0, 0};
  in.read(magic, 2);
  bool text = magic[0] == 'P' && magic[1] == '2', binary = magic[0] == 'P' && magic[1] == '5';
  if (!text && !binary) throw Failure{path + " is not a PGM image (it should start with P2 or P5)"};
  int64_t width = pgm_number(token(in, path), "width", path, 1);
  int64_t height = pgm_number(token(in, path), "height", path, 1);
  int64_t maxval = pgm_number(token(in, path), "maximum value", path, 1);
  if (maxval > 65535) throw Failure{path + ": a PGM maximum value is at most 65535, got " + std::to_string(maxval)};
  if (width != meta.width || height != meta.height) {
    throw Failure{path + " is " + std::to_string(width) + "x" + std::to_string(height) + " pixels; the model expects " +
                  std::to_string(meta.width) + "x" + std::to_string(meta.height)};
  }
  std::vector<float> pixels(static_cast<std::size_t>(width * height));
  for (auto& pixel : pixels) {
    int64_t value;
    if (text) {
      value = pgm_number(token(in, path), "pixel value", path, 0);
    } else if (maxval < 256) {
      int c = in.get();
      if (c == EOF) throw Failure{path + ": the pixel data is truncated"};
      value = c;
    } else {
      int hi = in.get(), lo = in.get();
      if (lo == EOF) throw Failure{path + ": the pixel data is truncated"};
      value = hi * 256 + lo;
    }
    if (value > maxval) throw Failure{path + ": a pixel value " + std::to_string(value) + " exceeds the maximum " + std::to_string(maxval)};
    pixel = static_cast<float>(value * meta.pixel_max / maxval);
  }
  return torch::from_blob(pixels.data(), {1, 1, height, width}, torch::kFloat).clone();
}

at::Tensor read_tensor(const std::string& path, const Metadata& meta) {
  require_file(path, "images");
  torch::jit::IValue saved;
  try {
    saved = torch::pickle_load(read_bytes(path));
  } catch (const c10::Error& e) {
    throw Failure{"cannot read " + path + " (save a tensor with torch.save(images, path)): " + first_line(e)};
  }
  if (saved.isList() && saved.toListRef().size() == 1) saved = saved.toListRef()[0];
  if (!saved.isTensor()) throw Failure{path + " holds a " + saved.tagKind() + ", not a tensor of images"};
  at::Tensor images = saved.toTensor().to(torch::kFloat);
  if (images.dim() != 4 || images.size(1) != 1 || images.size(2) != meta.height || images.size(3) != meta.width) {
    throw Failure{path + " holds images of shape " + describe(images) + "; the model expects [N, 1, " + std::to_string(meta.height) +
                  ", " + std::to_string(meta.width) + "]"};
  }
  return images;
}

void print_predictions(const std::vector<std::string>& names, const at::Tensor& logits, const Metadata& meta) {
  at::Tensor confidence = torch::softmax(logits, 1);
  at::Tensor best = confidence.argmax(1);
  for (int64_t i = 0; i < logits.size(0); ++i) {
    int64_t label = best[i].item<int64_t>();
    std::cout << names[static_cast<std::size_t>(i)] << ": " << meta.classes[static_cast<std::size_t>(label)] << "  ("
              << std::fixed << std::setprecision(1) << 100.0 * confidence[i][label].item<double>() << "%)\n";
  }
}

int run(const Args& args) {
  torch::jit::ExtraFilesMap extra;
  torch::jit::script::Module model = load_model(args.model, extra);
  model.eval();
  Metadata meta = read_metadata(args.model, extra);

  int status = 0;
  std::vector<at::Tensor> images;
  std::vector<std::string> names;
  if (!args.tensor.empty()) {
    images.push_back(read_tensor(args.tensor, meta));
    for (int64_t i = 0; i < images[0].size(0); ++i) names.push_back(args.tensor + "[" + std::to_string(i) + "]");
  } else {
    for (const auto& path : args.images) {
      try {
        images.push_back(read_pgm(path, meta));
        names.push_back(path);
      } catch (const Failure& f) {  // report it, classify the others
        std::cerr << "error: " << f.message << '\n';
        status = 1;
      }
    }
    if (images.empty()) return status;
  }

  torch::InferenceMode guard;
  at::Tensor logits;
  try {
    logits = model.forward({torch::cat(images)}).toTensor();
  } catch (const std::exception& e) {
    throw Failure{"the model rejected the images: " + cause(e.what())};
  }
  if (logits.dim() != 2 || logits.size(1) != static_cast<int64_t>(meta.classes.size())) {
    throw Failure{"the model returned scores of shape " + describe(logits) + " for " + std::to_string(meta.classes.size()) + " classes"};
  }
  if (!args.quiet) print_predictions(names, logits, meta);
  if (!args.save_logits.empty()) {
    save_pickled(logits, args.save_logits);
    std::cout << "wrote the logits of " << logits.size(0) << " images to " << args.save_logits << '\n';
  }
  return status;
}

}  // namespace

int main(int argc, const char* argv[]) {
  return report_failures([&] { return run(parse(argc, argv)); });
}

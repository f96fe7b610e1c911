// hello: the classic first LibTorch program. Load a TorchScript model, run it on
// a batch of ones shaped like an image, print the first five outputs.
//
//   hello MODEL.pt
#include <torch/script.h>

#include <iostream>

int main(int argc, const char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: hello MODEL.pt\n";
    return 2;
  }
  try {
    torch::jit::script::Module module = torch::jit::load(argv[1]);
    torch::InferenceMode guard;  // no autograd bookkeeping: we only run the model
    std::vector<torch::jit::IValue> inputs{torch::ones({1, 3, 224, 224})};
    at::Tensor output = module.forward(inputs).toTensor();
    std::cout << output.slice(/*dim=*/1, /*start=*/0, /*end=*/5) << '\n';
  } catch (const c10::Error& e) {  // loading failed: missing file, not a TorchScript archive
    std::cerr << "error: " << e.what_without_backtrace() << '\n';
    return 1;
  } catch (const std::exception& e) {  // running failed: the model wants other inputs
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

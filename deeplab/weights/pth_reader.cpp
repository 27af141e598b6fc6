#include "deeplab/weights/pth_reader.h"

#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include <fstream>
#include <map>
#include <memory>

#include "deeplab/core/error.h"
#include "deeplab/weights/pth_format.h"
#include "deeplab/weights/safetensors_reader.h"

namespace deeplab::weights {
namespace {

using Kind = PickleValue::Kind;

std::vector<int64_t> int_tuple(const PickleRef& v, const std::string& what, const std::string& source) {
  if (v->kind != Kind::Tuple && v->kind != Kind::List) {
    throw IoError(source + ": tensor " + what + " is a " + v->type_name() + ", expected a tuple of ints");
  }
  std::vector<int64_t> out;
  for (const auto& item : v->items) {
    if (item->kind != Kind::Int) throw IoError(source + ": tensor " + what + " holds a " + item->type_name());
    out.push_back(item->integer);
  }
  return out;
}

// Turns the zip's storage records into tensors and torch's rebuild calls into
// views of them.  One storage record may back several tensors (slices).
class TensorBuilder {
 public:
  TensorBuilder(caffe2::serialize::PyTorchStreamReader& reader, std::string source)
      : reader_(reader), source_(std::move(source)) {}

  PickleRef persistent_load(const PickleRef& pid) {
    const auto& f = pid->items;
    if (pid->kind != Kind::Tuple || f.size() != 5 || f[0]->kind != Kind::String || f[0]->text != "storage" ||
        f[1]->kind != Kind::Global || f[2]->kind != Kind::String || f[4]->kind != Kind::Int) {
      throw IoError(source_ + ": unexpected persistent id (a " + pid->type_name() +
                    "); expected ('storage', type, key, location, numel)");
    }
    const std::string& key = f[2]->text;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return PickleValue::of_tensor(cached->second);
    auto type = storage_types().find(f[1]->text);
    if (type == storage_types().end()) throw IoError(source_ + ": unsupported storage type " + f[1]->text);
    torch::Tensor storage = load_storage(key, type->second, f[4]->integer);
    storages_.emplace(key, storage);
    return PickleValue::of_tensor(storage);
  }

  PickleRef reduce(const std::string& global, const PickleRef& args) {
    const auto& a = args->items;
    if (global == "collections.OrderedDict") return PickleValue::make(Kind::Dict);
    if (global == "torch._utils._rebuild_tensor_v2" || global == "torch._utils._rebuild_tensor") {
      return PickleValue::of_tensor(rebuild_tensor(args));
    }
    if (global == "torch._utils._rebuild_parameter" && !a.empty() && a[0]->kind == Kind::Tensor) {
      return a[0];  // nn.Parameter saved with keep_vars=True: its data is what we need
    }
    if (global == "torch.jit._pickle.restore_type_tag" && !a.empty()) return a[0];  // LibTorch's pickle_save
    throw IoError(source_ + ": unsupported Python object " + global +
                  " (only tensors, dicts, lists, tuples, strings and numbers can be read)");
  }

 private:
  torch::Tensor load_storage(const std::string& key, torch::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    if (!reader_.hasRecord(record)) throw IoError(source_ + ": storage record " + record + " is missing");
    auto [data, nbytes] = reader_.getRecord(record);
    const auto expected = static_cast<size_t>(numel) * c10::elementSize(dtype);
    if (numel < 0 || nbytes != expected) {
      throw IoError(source_ + ": storage " + record + " has " + std::to_string(nbytes) + " bytes, expected " +
                    std::to_string(expected) + " for " + std::to_string(numel) + " elements");
    }
    // The tensor owns the record's buffer: no copy of (possibly large) weights.
    auto owner = std::make_shared<at::DataPtr>(std::move(data));
    void* ptr = owner->get();
    return torch::from_blob(
        ptr, {numel}, [owner](void*) {}, torch::TensorOptions().dtype(dtype));
  }

  torch::Tensor rebuild_tensor(const PickleRef& args) {
    const auto& a = args->items;
    if (a.size() < 4 || a[0]->kind != Kind::Tensor || a[1]->kind != Kind::Int) {
      throw IoError(source_ + ": malformed _rebuild_tensor_v2 arguments");
    }
    const torch::Tensor& storage = a[0]->tensor;
    const int64_t offset = a[1]->integer;
    const auto size = int_tuple(a[2], "size", source_);
    const auto stride = int_tuple(a[3], "stride", source_);
    if (size.size() != stride.size()) throw IoError(source_ + ": tensor size and stride differ in length");
    int64_t last = offset;
    bool empty = false;
    for (size_t i = 0; i < size.size(); ++i) {
      if (size[i] < 0 || stride[i] < 0) throw IoError(source_ + ": negative tensor size or stride");
      empty = empty || size[i] == 0;
      last += (size[i] - 1) * stride[i];
    }
    if (offset < 0 || (!empty && last >= storage.numel())) {
      throw IoError(source_ + ": tensor view (offset " + std::to_string(offset) + ") reaches past its storage of " +
                    std::to_string(storage.numel()) + " elements");
    }
    return storage.as_strided(size, stride, offset);
  }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string source_;
  std::map<std::string, torch::Tensor> storages_;
};

void check_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading");
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K') return;
  if (in.gcount() >= 2 && static_cast<uint8_t>(magic[0]) == 0x80) {
    throw IoError(path +
                  ": legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it in "
                  "Python with torch.save(obj, f) from PyTorch >= 1.6");
  }
  throw IoError(path + ": not a torch.save file (no zip signature) nor a .safetensors file");
}

// data.pkl of an opened archive, unpickled with its tensors.
PickleRef read_archive(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path) {
  if (!reader.hasRecord("data.pkl")) throw IoError(path + ": archive has no data.pkl record");
  if (reader.hasRecord("constants.pkl") || reader.hasRecord("code/__torch__.py")) {
    // A TorchScript archive: deeplab train's checkpoints (.ckpt) are one,
    // and so is an export's model.pt; neither is a dict of weights.
    throw IoError(path +
                  ": a TorchScript archive (a deeplab train checkpoint or an export's model.pt), not a "
                  "weights file: give the run's best.pth or final.pth, or continue training from it with "
                  "deeplab train --resume; an export runs with predict --model");
  }
  if (reader.hasRecord("byteorder")) {
    auto [order, n] = reader.getRecord("byteorder");
    if (std::string(static_cast<const char*>(order.get()), n) != "little") {
      throw IoError(path + ": big-endian tensor data is not supported");
    }
  }
  auto [pkl, pkl_size] = reader.getRecord("data.pkl");
  TensorBuilder builder(reader, path);
  Unpickler unpickler(
      static_cast<const char*>(pkl.get()), pkl_size, path,
      [&builder](const PickleRef& pid) { return builder.persistent_load(pid); },
      [&builder](const std::string& global, const PickleRef& args) { return builder.reduce(global, args); });
  return unpickler.load();
}

}  // namespace

PickleRef read_pth_object(const std::string& path) {
  check_zip(path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    throw IoError(path + ": unreadable torch.save archive: " + e.what_without_backtrace());
  }
  // LibTorch checks each record as it reads it (a damaged entry, sizes that
  // disagree): its c10::Error becomes ours, naming the file.
  try {
    return read_archive(*reader, path);
  } catch (const c10::Error& e) {
    throw IoError(path + ": unreadable torch.save archive: " + e.what_without_backtrace());
  }
}

StateDict state_dict_from_object(const PickleRef& object, const std::string& source) {
  if (object->kind != Kind::Dict) {
    throw IoError(source + ": holds a " + object->type_name() + ", expected a state dict (a dict of tensors)");
  }
  PickleRef dict = object;
  for (const char* wrapper : {"state_dict", "model"}) {
    PickleRef inner = object->find(wrapper);
    if (inner && inner->kind == Kind::Dict) {
      dict = inner;
      break;
    }
  }
  StateDict out;
  out.reserve(dict->dict.size());
  for (const auto& [key, value] : dict->dict) {
    if (key->kind != Kind::String) {
      throw IoError(source + ": state dict has a non-string key (" + key->type_name() + ")");
    }
    if (value->kind != Kind::Tensor) {
      throw IoError(source + ": state dict entry '" + key->text + "' is a " + value->type_name() + ", not a tensor");
    }
    out.emplace_back(key->text, value->tensor);
  }
  return out;
}

StateDict read_state_dict(const std::string& path) {
  if (is_safetensors_file(path)) return read_safetensors(path);
  return state_dict_from_object(read_pth_object(path), path);
}

}  // namespace deeplab::weights

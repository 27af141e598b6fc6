// The Cityscapes label table against facts of cityscapesScripts' labels.py.

#include "deeplab/data/cityscapes_labels.h"

#include <gtest/gtest.h>

#include <set>

namespace deeplab::data {
namespace {

TEST(CityscapesLabels, TableShape) {
  const auto& labels = cityscapes_labels();
  ASSERT_EQ(labels.size(), 35u);
  for (int id = 0; id <= kCityscapesMaxLabelId; ++id) EXPECT_EQ(labels[static_cast<size_t>(id)].id, id);
  EXPECT_EQ(labels.back().id, -1);
  EXPECT_STREQ(labels.back().name, "license plate");
  int evaluated = 0;
  int with_instances = 0;
  std::set<int> train_ids;
  for (const auto& label : labels) {
    if (!label.ignore_in_eval) {
      ++evaluated;
      train_ids.insert(label.train_id);
    }
    if (label.has_instances) ++with_instances;
  }
  EXPECT_EQ(evaluated, 19);
  EXPECT_EQ(train_ids.size(), 19u);
  EXPECT_EQ(*train_ids.rbegin(), 18);
  EXPECT_EQ(with_instances, 10);  // person rider car truck bus caravan trailer train motorcycle bicycle
}

TEST(CityscapesLabels, KnownRows) {
  const CityscapesLabel* car = cityscapes_label_by_id(26);
  ASSERT_NE(car, nullptr);
  EXPECT_STREQ(car->name, "car");
  EXPECT_EQ(car->train_id, 13);
  EXPECT_STREQ(car->category, "vehicle");
  EXPECT_EQ(car->category_id, 7);
  EXPECT_TRUE(car->has_instances);
  EXPECT_EQ(car->color, (std::array<uint8_t, 3>{0, 0, 142}));
  const CityscapesLabel* caravan = cityscapes_label_by_name("caravan");
  ASSERT_NE(caravan, nullptr);
  EXPECT_TRUE(caravan->ignore_in_eval);
  EXPECT_TRUE(caravan->has_instances);
  EXPECT_EQ(caravan->train_id, 255);
  EXPECT_EQ(cityscapes_label_by_name("road")->color, (std::array<uint8_t, 3>{128, 64, 128}));
  EXPECT_EQ(cityscapes_label_by_name("polegroup")->category_id, 3);
  EXPECT_EQ(cityscapes_label_by_id(34), nullptr);
  EXPECT_EQ(cityscapes_label_by_name("nothing"), nullptr);
}

TEST(CityscapesLabels, IdTrainIdLookups) {
  const auto to_train = cityscapes_id_to_train_id();
  EXPECT_EQ(to_train[7], 0);     // road
  EXPECT_EQ(to_train[8], 1);     // sidewalk
  EXPECT_EQ(to_train[23], 10);   // sky
  EXPECT_EQ(to_train[33], 18);   // bicycle
  EXPECT_EQ(to_train[0], 255);   // unlabeled
  EXPECT_EQ(to_train[9], 255);   // parking: ignored
  EXPECT_EQ(to_train[29], 255);  // caravan: ignored
  EXPECT_EQ(to_train[34], 255);  // not a label
  EXPECT_EQ(to_train[255], 255);
  const auto to_id = cityscapes_train_id_to_id();
  for (int id = 0; id <= kCityscapesMaxLabelId; ++id) {
    if (to_train[static_cast<size_t>(id)] != 255) {
      EXPECT_EQ(to_id[to_train[static_cast<size_t>(id)]], id);
    }
  }
  EXPECT_EQ(to_id[255], 0);
  EXPECT_STREQ(cityscapes_label_by_train_id(255)->name, "unlabeled");
  EXPECT_STREQ(cityscapes_label_by_train_id(11)->name, "person");
  EXPECT_EQ(cityscapes_label_by_train_id(19), nullptr);
  EXPECT_EQ(cityscapes_train_class_names().size(), 19u);
  EXPECT_EQ(cityscapes_train_class_names()[16], "train");
  EXPECT_EQ(cityscapes_train_palette()[18], (std::array<uint8_t, 3>{119, 11, 32}));
}

TEST(CityscapesLabels, Categories) {
  EXPECT_EQ(cityscapes_categories().size(), 8u);
  EXPECT_EQ(cityscapes_categories()[6], "human");
  EXPECT_EQ(cityscapes_category_label_ids("human"), (std::vector<int>{24, 25}));
  EXPECT_EQ(cityscapes_category_label_ids("vehicle"), (std::vector<int>{26, 27, 28, 29, 30, 31, 32, 33}));
  EXPECT_EQ(cityscapes_category_label_ids("flat"), (std::vector<int>{7, 8, 9, 10}));
  for (const auto& label : cityscapes_labels()) {
    EXPECT_EQ(cityscapes_categories()[static_cast<size_t>(label.category_id)], label.category) << label.name;
  }
}

}  // namespace
}  // namespace deeplab::data

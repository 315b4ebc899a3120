"""Decision items: filing, editing and the item lifecycle."""

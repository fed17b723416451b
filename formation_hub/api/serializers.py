from rest_framework import serializers

from formation_hub.models import Gate


class GateSerializer(serializers.ModelSerializer):
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField()
    object_type = serializers.CharField(source="content_type.model", read_only=True)

    class Meta:
        model = Gate
        fields = [
            "id", "gate_type", "object_type", "object_id", "object_repr", "subject", "state",
            "requested_by", "requested_at", "decision", "decided_by", "decided_at", "reason", "void_reason",
        ]
        read_only_fields = fields


class GateDecisionSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=30)
    subject = serializers.CharField(max_length=200, help_text="The subject you reviewed (SHA, version).")
    reason = serializers.CharField(required=False, allow_blank=True, default="")

